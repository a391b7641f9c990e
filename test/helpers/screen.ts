/**
 * A minimal VT100 screen: enough of the control sequences readline emits (CR, LF, BS, CSI n G/C/D/A/B,
 * CSI K, CSI J) to turn a terminal byte stream into the text a person sees.
 */
export class Screen {
  private lines: string[][] = [[]];
  private row = 0;
  private col = 0;

  feed(data: string): void {
    for (let i = 0; i < data.length; i++) {
      const c = data[i]!;
      if (c === '\x1b' && data[i + 1] === '[') {
        const m = /^\x1b\[(\d*)([A-Za-z])/.exec(data.slice(i));
        if (!m) continue;
        i += m[0].length - 1;
        const n = m[1] === '' ? undefined : Number(m[1]);
        this.csi(m[2]!, n);
      } else if (c === '\r') this.col = 0;
      else if (c === '\n') this.moveRow(1);
      else if (c === '\b') this.col = Math.max(0, this.col - 1);
      else if (c === '\x07') continue;
      else {
        const line = this.lines[this.row]!;
        while (line.length < this.col) line.push(' ');
        line[this.col++] = c;
      }
    }
  }

  private moveRow(by: number): void {
    this.row = Math.max(0, this.row + by);
    while (this.lines.length <= this.row) this.lines.push([]);
  }

  private csi(cmd: string, n: number | undefined): void {
    const line = this.lines[this.row]!;
    switch (cmd) {
      case 'G':
        this.col = (n ?? 1) - 1;
        break;
      case 'C':
        this.col += n ?? 1;
        break;
      case 'D':
        this.col = Math.max(0, this.col - (n ?? 1));
        break;
      case 'A':
        this.moveRow(-(n ?? 1));
        break;
      case 'B':
        this.moveRow(n ?? 1);
        break;
      case 'K':
        line.length = Math.min(line.length, this.col);
        break;
      case 'J':
        line.length = Math.min(line.length, this.col);
        this.lines.length = this.row + 1;
        break;
    }
  }

  /** The screen as text, trailing spaces trimmed, one `\n` after each row. */
  text(): string {
    return this.lines.map((l) => l.join('').trimEnd()).join('\n');
  }
}

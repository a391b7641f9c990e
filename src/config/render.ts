/**
 * The running-config assembler (FRR vty_write_config): renderers run in an explicit order; output
 * starts with `!`, has a `!` after each non-empty block and ends with `end` (awplus-spec.md §4.6
 * [FOUND S12]).
 */

/** What a renderer may need beyond the model: sealing secrets for their `8 …` form. */
export interface RenderContext {
  /** Deterministic, so render → boot → render stays byte-identical. */
  seal(text: string): string;
}

/** A feature's renderer: the lines of its block(s), sub-mode lines indented by one space. */
export type Renderer<M> = (config: Readonly<M>, ctx: RenderContext) => string[][];

/** A named section of the running config (`show running-config SECTION`). */
export interface Section<M> {
  readonly name: string;
  readonly render: Renderer<M>;
}

/** Renders `sections` in order into the running-config text (ends with `end\n`). */
export function assemble<M>(config: Readonly<M>, sections: readonly Section<M>[], ctx: RenderContext): string {
  const out = ['!'];
  for (const section of sections) {
    for (const block of section.render(config, ctx)) {
      if (block.length === 0) continue;
      out.push(...block, '!');
    }
  }
  out.push('end');
  return out.join('\n') + '\n';
}

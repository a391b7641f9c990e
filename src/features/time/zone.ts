/** The time zone every displayed time is shown in: `clock timezone`, or UTC without it. */
import type { RunningConfig } from '../../config/model.ts';
import { UTC_ZONE, type TimeZone } from '../../time/timezone.ts';

export const zoneOf = (cfg: Readonly<RunningConfig>): TimeZone => cfg.timezone ?? UTC_ZONE;

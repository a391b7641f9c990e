#!/usr/bin/env node
// Runs the TypeScript entry point through tsx, so `npx awplus` needs no build step (SPEC §2).
import { register } from 'tsx/esm/api';

register();
await import('./awplus.ts');

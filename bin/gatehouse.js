#!/usr/bin/env node
// The `gatehouse` command. Run through npm (npx gatehouse, npm run), `node` is the project's own Node 24.
import { runCli } from '../src/admin/cli.ts';

process.exitCode = await runCli(process.argv.slice(2));

#!/usr/bin/env node
// Fake edgetpu_compiler that never finishes a compile. Like the real one it compiles in a child process: the
// child's pid goes to FAKE_EDGETPU_PIDFILE so a test can check the whole process group was killed.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { VERSION } from './args.mjs';

if (process.argv.includes('--version')) {
  console.log(`Edge TPU Compiler version ${VERSION}`);
  process.exit(0);
}
console.log(`Edge TPU Compiler version ${VERSION}`);
console.log('Started a compilation timeout timer of 180 seconds.');
const worker = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
if (process.env.FAKE_EDGETPU_PIDFILE) writeFileSync(process.env.FAKE_EDGETPU_PIDFILE, String(worker.pid));
setInterval(() => {}, 1000);

#!/usr/bin/env node
'use strict';

// Runs one action of app.js through the real zapier-platform-core runtime.
//
//   stdin : {"base_url": "...", "api_key": "...", "input": {...}, "action": "create"|"auth"}
//   stdout: one JSON line, {"ok": true, "result": ...}
//           or {"ok": false, "name", "message", "status", "delay"}
//   exit  : 0 for both; non-zero only when the harness itself fails.

// Must be set before zapier-platform-core is loaded: its constants.js reads
// NODE_ENV once (IS_TESTING), which silences the per-run memory log line.
process.env.NODE_ENV = 'test';
// Core ships logs to Zapier's log server only when a token is present; keep
// every byte of this harness on the endpoint under test.
delete process.env.LOGGING_TOKEN;
// Keep stdout for the single result line, whatever the runtime prints.
console.log = console.info = console.error;

// createAppTester resolves a method by identity, so pass the object itself.
const METHODS = {
  create: (app) => app.creates.send_offer.operation.perform,
  auth: (app) => app.authentication.test,
};

const readStdin = async () => {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
};

// ResponseError and ThrottledError carry their details as a JSON message.
const parseMessage = (message) => {
  try {
    const parsed = JSON.parse(message);
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch (_e) {
    return {};
  }
};

const describeError = (err) => {
  const details = parseMessage(err.message);
  const out = { ok: false, name: err.name, message: err.message, status: null, delay: null };
  if (err.name === 'ResponseError') out.status = details.status ?? null;
  if (err.name === 'ThrottledError') {
    out.status = 429;
    out.delay = details.delay ?? null;
  }
  return out;
};

const main = async () => {
  const { base_url, api_key, input = {}, action = 'create' } = await readStdin();
  if (!METHODS[action]) throw new Error(`unknown action: ${action}`);

  const zapier = require('zapier-platform-core');
  const app = require('./app');
  const appTester = zapier.createAppTester(app);
  const method = METHODS[action](app);
  const bundle = { authData: { base_url, api_key }, inputData: input };

  let out;
  try {
    out = { ok: true, result: await appTester(method, bundle) };
  } catch (err) {
    out = describeError(err);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
};

main().catch((err) => {
  process.stderr.write(`run_create.js: ${(err && err.stack) || err}\n`);
  process.exitCode = 2;
});

#!/usr/bin/env node
'use strict';

// Runs one method of a Zapier integration through the real zapier-platform-core runtime, or
// validates its definition with zapier-platform-schema.
//
//   stdin : {"app": "<path to the integration's index.js>", "action": "create"|"auth"|
//            "templates"|"subscribe"|"unsubscribe"|"hook"|"hook_list"|"validate",
//            "base_url": "...", "api_key": "...", "input": {...}, "bundle": {...}}
//           ("bundle": what Zapier adds for a REST hook: targetUrl, subscribeData, cleanedRequest)
//   stdout: one JSON line: {"ok": true, "result": ...}, or {"ok": false, "name", "message",
//           "status", "delay", "code"}; for "validate", {"ok": true, "result": {"errors": [...]}}
//   exit  : 0 for all of these; non-zero only when the harness itself fails.
//
// The integration requires zapier-platform-core itself: run with NODE_PATH pointing at this
// folder's node_modules, so it and this harness share one copy of the runtime.

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
  templates: (app) => app.triggers.templates.operation.perform,
  // the "Message status changed" REST hook
  subscribe: (app) => app.triggers.message_status.operation.performSubscribe,
  unsubscribe: (app) => app.triggers.message_status.operation.performUnsubscribe,
  hook: (app) => app.triggers.message_status.operation.perform,
  hook_list: (app) => app.triggers.message_status.operation.performList,
};

const readStdin = async () => {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
};

// AppError, ResponseError and ThrottledError carry their details as a JSON message.
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
  const out = {
    ok: false,
    name: err.name,
    message: err.message,
    status: null,
    delay: null,
    code: null,
  };
  if (err.name === 'ResponseError') out.status = details.status ?? null;
  if (err.name === 'AppError') {
    out.message = details.message ?? err.message;
    out.code = details.code ?? null;
    out.status = details.status ?? null;
  }
  if (err.name === 'ThrottledError') {
    out.message = details.message ?? err.message;
    out.delay = details.delay ?? null;
  }
  return out;
};

// What `zapier validate` runs: the app compiled as the runtime loads it, its functions turned
// into the "$func$..." strings the schema expects, then zapier-platform-schema's
// validateAppDefinition (JSON schema plus its functional constraints).
const validate = (app) => {
  const schemaTools = require('zapier-platform-core/src/tools/schema');
  const errors = schemaTools.validateApp(schemaTools.compileApp(app));
  return { errors: errors.map((e) => `${e.property}: ${e.message}`) };
};

const main = async () => {
  const {
    app: appPath,
    base_url,
    api_key,
    input = {},
    bundle: extra = {},
    action = 'create',
  } = await readStdin();
  if (action !== 'validate' && !METHODS[action]) throw new Error(`unknown action: ${action}`);

  const zapier = require('zapier-platform-core');
  const app = require(appPath);
  let out;
  if (action === 'validate') {
    out = { ok: true, result: validate(app) };
  } else {
    const appTester = zapier.createAppTester(app);
    const bundle = { ...extra, authData: { base_url, api_key }, inputData: input };
    try {
      out = { ok: true, result: await appTester(METHODS[action](app), bundle) };
    } catch (err) {
      out = describeError(err);
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n');
};

main().catch((err) => {
  process.stderr.write(`run_create.js: ${(err && err.stack) || err}\n`);
  process.exitCode = 2;
});

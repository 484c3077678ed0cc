'use strict';

// Written by `lto-connector manifests build` from the connector's schemas: do not edit here.
// definition.json holds the fields, requests and samples; this file adds what JSON cannot say:
// the API key on every request, the hook triggers' perform, and the connector's errors turned
// into Zapier's.

const core = require('zapier-platform-core');
const definition = require('./definition.json');

// Every request: the API key header (never a blank one), and no double slash when the
// connection's URL was entered with a trailing "/".
const prepareRequest = (request, z, bundle) => {
  const apiKey = bundle.authData && bundle.authData.api_key;
  if (apiKey) {
    request.headers = { ...request.headers, 'X-Api-Key': apiKey };
  }
  if (request.url) {
    request.url = request.url.replace(/([^:/])\/{2,}/g, '$1/');
  }
  return request;
};

const retryAfter = (response) => {
  const seconds = parseInt(response.headers.get('retry-after'), 10);
  return Number.isNaN(seconds) ? null : seconds;
};

// The connector's one error body is {code, status, message, errors: {field: [{code, message}]}};
// its message already names each field and rule.
const describe = (response) => {
  let body = null;
  try {
    body = JSON.parse(response.content);
  } catch (_err) {
    body = null;
  }
  if (body && typeof body.message === 'string' && body.message) {
    return { message: body.message, code: body.code || `http_${response.status}` };
  }
  return {
    message: `The connector answered HTTP ${response.status}.`,
    code: `http_${response.status}`,
  };
};

// 401/403: the key is wrong or was revoked, so the connection must be fixed.
// 429/503: throttled or briefly unavailable, so Zapier waits Retry-After seconds and tries again.
// Any other 4xx or 5xx: an error that shows the connector's message (the field and the rule).
const surfaceErrors = (response, z) => {
  if (response.status < 400) {
    return response;
  }
  const { message, code } = describe(response);
  if (response.status === 401 || response.status === 403) {
    throw new z.errors.ExpiredAuthError(message);
  }
  if (response.status === 429 || response.status === 503) {
    throw new z.errors.ThrottledError(message, retryAfter(response));
  }
  throw new z.errors.Error(message, code, response.status);
};

// A REST hook trigger: the connector posts one record per status change to the Zap's hook, and
// the trigger hands Zapier that record as a list of one (a list posted is passed on as it is).
const hookRecords = (z, bundle) => {
  const posted = bundle.cleanedRequest;
  return Array.isArray(posted) ? posted : [posted];
};

const withHookPerform = (triggers) => {
  const out = {};
  for (const [key, trigger] of Object.entries(triggers || {})) {
    const operation = trigger.operation || {};
    out[key] =
      operation.type === 'hook'
        ? { ...trigger, operation: { ...operation, perform: hookRecords } }
        : trigger;
  }
  return out;
};

module.exports = {
  ...definition,
  triggers: withHookPerform(definition.triggers),
  platformVersion: core.version,
  beforeRequest: [prepareRequest],
  afterResponse: [surfaceErrors],
};

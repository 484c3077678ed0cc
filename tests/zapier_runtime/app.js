'use strict';

// TEST FIXTURE, not the product manifest: the smallest Zapier integration that
// makes the real zapier-platform-core runtime call the connector the way a
// published "Send offer" action would. See NOTES.md for the runtime's rules.

// Same API-key header on every request (the custom-auth pattern of Zapier's
// example-apps/custom-auth); skipped when no key is set, so no blank header.
const addApiKey = (request, z, bundle) => {
  if (bundle.authData.api_key) {
    request.headers = { ...request.headers, 'X-Api-Key': bundle.authData.api_key };
  }
  return request;
};

module.exports = {
  version: '0.0.0',
  platformVersion: require('zapier-platform-core').version,

  authentication: {
    type: 'custom',
    fields: [
      { key: 'base_url', label: 'Connector URL', required: true, type: 'string' },
      { key: 'api_key', label: 'API key', required: true, type: 'password' },
    ],
    test: { url: '{{bundle.authData.base_url}}/healthz' },
  },

  beforeRequest: [addApiKey],

  creates: {
    send_offer: {
      key: 'send_offer',
      noun: 'Offer',
      display: { label: 'Send Offer', description: 'Sends one limited-time-offer WhatsApp message.' },
      operation: {
        inputFields: [
          { key: 'to', label: 'Phone', required: true },
          { key: 'template_name', label: 'Template', required: true },
          { key: 'language', label: 'Language' },
          { key: 'header_image_url', label: 'Header image URL' },
          { key: 'body_params', label: 'Body variables', list: true },
          { key: 'expires_at', label: 'Expires at', type: 'datetime' },
          { key: 'expires_in', label: 'Expires in' },
          { key: 'coupon_code', label: 'Coupon code' },
          { key: 'url_param', label: 'URL parameter' },
          { key: 'ref', label: 'Reference' },
          { key: 'idempotency_key', label: 'Idempotency key' },
        ],
        // Shorthand (pure JSON) request: each value is a whole-value
        // placeholder, so a list arrives as a JSON array, not a string.
        perform: {
          method: 'POST',
          url: '{{bundle.authData.base_url}}/hooks/zapier',
          body: {
            to: '{{bundle.inputData.to}}',
            template_name: '{{bundle.inputData.template_name}}',
            language: '{{bundle.inputData.language}}',
            header_image_url: '{{bundle.inputData.header_image_url}}',
            body_params: '{{bundle.inputData.body_params}}',
            expires_at: '{{bundle.inputData.expires_at}}',
            expires_in: '{{bundle.inputData.expires_in}}',
            coupon_code: '{{bundle.inputData.coupon_code}}',
            url_param: '{{bundle.inputData.url_param}}',
            ref: '{{bundle.inputData.ref}}',
            idempotency_key: '{{bundle.inputData.idempotency_key}}',
          },
        },
        sample: { id: 'msg_123', status: 'accepted' },
      },
    },
  },
};

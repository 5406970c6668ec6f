import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  renderConsentPage,
  renderErrorPage,
  renderLoginPage,
  type ConsentPageInput,
  type LoginPageInput,
} from '../../oauth/pages.js';

const options = { nonce: 'rAnd0mNonce+/=' };

/** A value that breaks out of text and of either kind of quoted attribute if it is not escaped. */
const hostile = (label: string): string => `${label} <script>alert('x')</script> "q" & &amp; <img src=x>`;

const login: LoginPageInput = {
  requestId: 'req-123',
  csrfToken: 'csrf-456',
  tenantName: 'Acme Corp',
  clientName: 'Claude Desktop',
  action: '/oauth/login',
};

const consent: ConsentPageInput = {
  requestId: 'req-123',
  csrfToken: 'csrf-456',
  action: '/oauth/consent',
  tenantName: 'Acme Corp',
  userName: 'Alice Example',
  clientName: 'Claude Desktop',
  clientId: 'https://claude.ai/oauth/mcp-oauth-client-metadata',
  clientIdIsUrl: true,
  redirectHost: 'claude.ai',
  scopes: [{ name: 'tools:read', description: 'List the tools available to you' }, { name: 'offline_access' }],
  resource: 'https://gateway.acme.example/mcp',
};

const error = {
  title: 'This request can’t be completed',
  error: 'invalid_redirect_uri',
  description: 'The redirect URI is not registered for this application.',
};

function unescape(value: string): string {
  return value
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');
}

/** The page's visible text, unescaped, with whitespace collapsed (the <style> block removed). */
function text(html: string): string {
  return unescape(
    html
      .replace(/<style[^>]*>[\s\S]*?<\/style>/, '')
      .replace(/<title>[\s\S]*?<\/title>/, '')
      .replace(/<[^>]*>/g, '')
      .replace(/\s+/g, ' '),
  );
}

type Tag = Record<string, string>;

/** Every `<name …>` start tag with its attributes, values unescaped. Sound because values never contain `"`. */
function tags(html: string, name: string): Tag[] {
  return [...html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'g'))].map((match) => {
    const attributes: Tag = {};
    for (const attribute of (match[1] ?? '').matchAll(/([\w-]+)(?:="([^"]*)")?/g)) {
      attributes[attribute[1] ?? ''] = unescape(attribute[2] ?? '');
    }
    return attributes;
  });
}

function buttons(html: string): Array<{ attributes: Tag; label: string }> {
  return [...html.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/g)].map((match) => ({
    attributes: tags(`<button${match[1] ?? ''}>`, 'button')[0] ?? {},
    label: text(match[2] ?? '').trim(),
  }));
}

describe('escapeHtml', () => {
  it('escapes the five characters that matter in text and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('leaves other text alone', () => {
    expect(escapeHtml('Portcullis — café / ✓')).toBe('Portcullis — café / ✓');
  });
});

describe.each([
  ['login', renderLoginPage({ ...login, error: 'Wrong password', username: 'alice' }, options), []],
  ['consent', renderConsentPage(consent, options), [consent.clientId, consent.resource]],
  ['error', renderErrorPage(error, options), []],
] as const)('the %s page', (_name, html, interpolatedUrls) => {
  it('is a complete, accessible HTML document', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
    expect(html).toMatch(/<title>[^<]+ · Portcullis<\/title>/);
    expect(html).toMatch(/<h1>[\s\S]+<\/h1>/);
    expect(html).toContain('Portcullis');
  });

  it('carries its styles in one nonced <style> element with focus styles and a dark scheme', () => {
    expect(html.match(/<style\b/g)).toHaveLength(1);
    expect(html).toContain(`<style nonce="${escapeHtml(options.nonce)}">`);
    expect(html).toMatch(/:focus-visible\{outline:3px solid/);
    expect(html).toContain('@media (prefers-color-scheme:dark)');
  });

  it('works under the strict CSP: no scripts, no style attributes, no external assets', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\son\w+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/\s(src|href|srcset|xlink:href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import|<link\b|<iframe\b|<object\b|<embed\b|http-equiv/i);
    let rest = html;
    for (const url of interpolatedUrls) rest = rest.replaceAll(escapeHtml(url), '');
    expect(rest).not.toMatch(/https?:\/\//i);
  });

  it('binds every label to an input', () => {
    const ids = new Set(tags(html, 'input').map((input) => input.id));
    for (const label of tags(html, 'label')) expect(ids).toContain(label.for);
  });
});

describe('renderLoginPage', () => {
  const html = renderLoginPage(login, options);

  it('says where the user signs in and for whom', () => {
    expect(text(html)).toContain('Sign in to Acme Corp to continue to Claude Desktop.');
  });

  it('posts username, password, request_id and csrf_token to the action', () => {
    expect(tags(html, 'form')).toEqual([{ method: 'post', action: '/oauth/login' }]);
    const inputs = tags(html, 'input');
    expect(inputs.map((input) => input.name)).toEqual(['request_id', 'csrf_token', 'username', 'password']);
    expect(inputs.find((input) => input.name === 'request_id')).toMatchObject({ type: 'hidden', value: 'req-123' });
    expect(inputs.find((input) => input.name === 'csrf_token')).toMatchObject({ type: 'hidden', value: 'csrf-456' });
    expect(buttons(html)).toEqual([{ attributes: { class: 'btn btn-primary btn-block', type: 'submit' }, label: 'Sign in' }]);
  });

  it('has labelled fields with autocomplete hints', () => {
    const inputs = tags(html, 'input');
    const username = inputs.find((input) => input.name === 'username');
    const password = inputs.find((input) => input.name === 'password');
    expect(username).toMatchObject({ id: 'username', type: 'text', autocomplete: 'username', required: '' });
    expect(password).toMatchObject({ id: 'password', type: 'password', autocomplete: 'current-password', required: '' });
    expect(password).not.toHaveProperty('value');
    expect(tags(html, 'label').map((label) => label.for)).toEqual(['username', 'password']);
    expect(text(html)).toMatch(/Username Password/);
  });

  it('shows no alert without an error, and the error in role="alert" with the username kept', () => {
    expect(html).not.toContain('role="alert"');
    const failed = renderLoginPage({ ...login, username: 'alice', error: 'Wrong username or password.' }, options);
    expect(failed).toContain('<p class="alert" role="alert">Wrong username or password.</p>');
    expect(tags(failed, 'input').find((input) => input.name === 'username')?.value).toBe('alice');
  });

  it('escapes every value in text and attribute positions', () => {
    const evil: LoginPageInput = {
      requestId: hostile('request'),
      csrfToken: hostile('csrf'),
      tenantName: hostile('tenant'),
      clientName: hostile('client'),
      username: hostile('user'),
      error: hostile('error'),
      action: `/login?a=1&b="2"'`,
    };
    const page = renderLoginPage(evil, options);
    expect(page).not.toMatch(/<script|<img/i);
    for (const value of Object.values(evil)) expect(page).not.toContain(value);
    expect(page).toContain(escapeHtml(evil.clientName));
    expect(text(page)).toContain(`Sign in to ${evil.tenantName} to continue to ${evil.clientName}.`);
    expect(text(page)).toContain(evil.error);
    const inputs = tags(page, 'input');
    expect(inputs.find((input) => input.name === 'request_id')?.value).toBe(evil.requestId);
    expect(inputs.find((input) => input.name === 'csrf_token')?.value).toBe(evil.csrfToken);
    expect(inputs.find((input) => input.name === 'username')?.value).toBe(evil.username);
    expect(tags(page, 'form')[0]?.action).toBe(evil.action);
  });
});

describe('renderConsentPage', () => {
  const html = renderConsentPage(consent, options);

  it('posts request_id, csrf_token and a decision from one of two buttons', () => {
    expect(tags(html, 'form')).toEqual([{ method: 'post', action: '/oauth/consent' }]);
    expect(tags(html, 'input')).toEqual([
      { type: 'hidden', name: 'request_id', value: 'req-123' },
      { type: 'hidden', name: 'csrf_token', value: 'csrf-456' },
    ]);
    const decisions = buttons(html).map(({ attributes, label }) => ({
      type: attributes.type,
      name: attributes.name,
      value: attributes.value,
      label,
    }));
    expect(decisions).toEqual([
      { type: 'submit', name: 'decision', value: 'deny', label: 'Deny' },
      { type: 'submit', name: 'decision', value: 'allow', label: 'Allow' },
    ]);
    expect(html).not.toMatch(/<a\b/);
  });

  it('shows who asks, that the name is unverified, for whom, where the user goes and what is granted', () => {
    const visible = text(html);
    expect(visible).toContain('Authorize Claude Desktop');
    expect(visible).toContain('Unverified name. The application chose this name itself.');
    expect(visible).toContain('It is asking to access Acme Corp on your behalf. You are signed in as Alice Example.');
    expect(visible).toContain(`Client metadata URL ${consent.clientId}`);
    expect(html).toContain(`<code>${consent.clientId}</code>`);
    expect(visible).toContain(`Resource ${consent.resource}`);
    expect(visible).toContain('Allow or Deny will redirect you to claude.ai.');
    expect(html).toContain('<li><code>tools:read</code><span>List the tools available to you</span></li>');
    expect(html).toContain('<li><code>offline_access</code></li>');
  });

  it('labels a plain client_id as such and says when no scope is requested', () => {
    const page = renderConsentPage({ ...consent, clientId: 'abc123', clientIdIsUrl: false, scopes: [] }, options);
    expect(text(page)).toContain('Client ID abc123');
    expect(text(page)).toContain('Check the client ID below');
    expect(text(page)).toContain('No scopes requested.');
    expect(page).not.toContain('<ul');
  });

  it('escapes every value in text and attribute positions', () => {
    const evil: ConsentPageInput = {
      requestId: hostile('request'),
      csrfToken: hostile('csrf'),
      action: `/consent?a=1&b="2"'`,
      tenantName: hostile('tenant'),
      userName: hostile('user'),
      clientName: hostile('client'),
      clientId: `https://evil.example/cimd?a=1&b="><script>alert(1)</script>`,
      clientIdIsUrl: true,
      redirectHost: `evil.example"'><script>&`,
      scopes: [{ name: hostile('scope'), description: hostile('description') }],
      resource: `https://gateway.example/mcp?x=<script>&y="'`,
    };
    const page = renderConsentPage(evil, options);
    expect(page).not.toMatch(/<script|<img/i);
    const values = [
      evil.requestId,
      evil.csrfToken,
      evil.action,
      evil.tenantName,
      evil.userName,
      evil.clientName,
      evil.clientId,
      evil.redirectHost,
      evil.resource,
      evil.scopes[0]?.name ?? '',
      evil.scopes[0]?.description ?? '',
    ];
    for (const value of values) {
      expect(page).not.toContain(value);
      if (value !== evil.requestId && value !== evil.csrfToken && value !== evil.action) {
        expect(text(page)).toContain(value);
      }
    }
    expect(page).toContain(`<title>Authorize ${escapeHtml(evil.clientName)} · Portcullis</title>`);
    expect(page).toContain(`<code>${escapeHtml(evil.clientId)}</code>`);
    expect(page).toContain(`redirect you to <code>${escapeHtml(evil.redirectHost)}</code>`);
    expect(tags(page, 'input').map((input) => input.value)).toEqual([evil.requestId, evil.csrfToken]);
    expect(tags(page, 'form')[0]?.action).toBe(evil.action);
  });
});

describe('renderErrorPage', () => {
  const html = renderErrorPage(error, options);

  it('shows the title, the description as an alert, the code, and that the window can be closed', () => {
    expect(html).toContain(`<title>${escapeHtml(error.title)} · Portcullis</title>`);
    expect(html).toContain(`<h1>${error.title}</h1>`);
    expect(html).toContain(`<p class="alert" role="alert">${error.description}</p>`);
    expect(html).toContain('Error code: <code>invalid_redirect_uri</code>');
    expect(text(html)).toContain('You can close this window');
  });

  it('never redirects or offers an action', () => {
    expect(html).not.toMatch(/<form|<a\b|<button|<meta http-equiv|refresh/i);
  });

  it('escapes the title, the code and the description', () => {
    const evil = { title: hostile('title'), error: hostile('code'), description: hostile('description') };
    const page = renderErrorPage(evil, options);
    expect(page).not.toMatch(/<script|<img/i);
    for (const value of Object.values(evil)) {
      expect(page).not.toContain(value);
      expect(text(page)).toContain(value);
    }
    expect(page).toContain(`<h1>${escapeHtml(evil.title)}</h1>`);
    expect(page).toContain(`<code>${escapeHtml(evil.error)}</code>`);
  });
});

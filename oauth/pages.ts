/**
 * Server-rendered HTML of the authorization server: the login, consent and error pages.
 *
 * Every page is self-contained so it works offline and under the strict CSP the caller sends with it
 * (`default-src 'none'; style-src 'nonce-…'; img-src data:; base-uri 'none'; frame-ancestors 'none'`):
 * one nonced `<style>` block, no `style` attributes, no scripts, no external fonts or images. Every
 * interpolated value goes through {@link escapeHtml}: client names, client IDs and URLs are attacker-controlled
 * (RFC 7591 §5, OAuth Client ID Metadata Document §6).
 */

/** Options every page needs from the caller. */
export interface PageOptions {
  /** The CSP nonce of this response (`style-src 'nonce-<nonce>'`), put on the page's one `<style>` element. */
  nonce: string;
}

/**
 * Escapes `& < > " '` so a value is inert both as text and inside a double- or single-quoted attribute.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** What the login page shows and posts back. */
export interface LoginPageInput {
  /** The pending authorization request, posted back as `request_id`. */
  requestId: string;
  /** Posted back as `csrf_token`. */
  csrfToken: string;
  tenantName: string;
  /** Self-declared by the client (RFC 7591 §2 `client_name`), so untrusted. */
  clientName: string;
  /** Pre-fills the username field, e.g. after a failed attempt. */
  username?: string;
  /** A message for the user about the previous attempt, announced with `role="alert"`. */
  error?: string;
  /** The form's action: a URL path on this server. */
  action: string;
}

/**
 * The sign-in page shown during the authorization request (RFC 6749 §3.1, OAuth 2.1 §4.1.1): a form that
 * POSTs `username`, `password`, `request_id` and `csrf_token` to `action`.
 */
export function renderLoginPage(input: LoginPageInput, options: PageOptions): string {
  const username = input.username ?? '';
  const alert = input.error === undefined ? html`` : html`<p class="alert" role="alert">${input.error}</p>`;
  const usernameFocus = username === '' ? raw(' autofocus') : raw('');
  const passwordFocus = username === '' ? raw('') : raw(' autofocus');
  return page(`Sign in · ${PRODUCT}`, options, 'narrow', html`
      <h1>Sign in</h1>
      <p class="lead">Sign in to <strong>${input.tenantName}</strong> to continue to <strong>${input.clientName}</strong>.</p>
      ${alert}
      <form method="post" action="${input.action}">
        <input type="hidden" name="request_id" value="${input.requestId}">
        <input type="hidden" name="csrf_token" value="${input.csrfToken}">
        <div class="field">
          <label for="username">Username</label>
          <input id="username" name="username" type="text" value="${username}" autocomplete="username" autocapitalize="none" spellcheck="false" required${usernameFocus}>
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required${passwordFocus}>
        </div>
        <button class="btn btn-primary btn-block" type="submit">Sign in</button>
      </form>`);
}

/** What the consent page shows and posts back. */
export interface ConsentPageInput {
  /** The pending authorization request, posted back as `request_id`. */
  requestId: string;
  /** Posted back as `csrf_token`. */
  csrfToken: string;
  /** The form's action: a URL path on this server. */
  action: string;
  tenantName: string;
  /** The signed-in user's display name. */
  userName: string;
  /** Self-declared by the client (RFC 7591 §2 `client_name`), so untrusted: the page says so. */
  clientName: string;
  /**
   * The `client_id`; may be an https URL (a client ID metadata document), shown in full and in monospace so
   * the user sees exactly who is asking.
   */
  clientId: string;
  clientIdIsUrl: boolean;
  /** The host of the redirect URI the user is sent to afterwards, whatever they choose. */
  redirectHost: string;
  /** The requested scopes (RFC 6749 §3.3), with a description where the tenant has one. */
  scopes: ReadonlyArray<{ name: string; description?: string }>;
  /** The resource the token will be bound to (RFC 8707 §2). */
  resource: string;
}

/**
 * The consent page (OAuth 2.1 §7.3.2, MCP Authorization "Security Considerations": consent for every client):
 * a form that POSTs `request_id`, `csrf_token` and `decision` = `allow` | `deny` to `action`.
 */
export function renderConsentPage(input: ConsentPageInput, options: PageOptions): string {
  const scopes =
    input.scopes.length === 0
      ? html`<p class="muted">No scopes requested.</p>`
      : html`<ul class="scopes">${input.scopes.map(
          (scope) =>
            html`<li><code>${scope.name}</code>${
              scope.description === undefined ? html`` : html`<span>${scope.description}</span>`
            }</li>`,
        )}</ul>`;
  return page(`Authorize ${input.clientName} · ${PRODUCT}`, options, 'wide', html`
      <h1>Authorize ${input.clientName}</h1>
      <p class="warning"><strong>Unverified name.</strong> The application chose this name itself. Check the ${input.clientIdIsUrl ? 'address' : 'client ID'} below before you allow access.</p>
      <p class="lead">It is asking to access <strong>${input.tenantName}</strong> on your behalf. You are signed in as <strong>${input.userName}</strong>.</p>
      <dl class="details">
        <dt>${input.clientIdIsUrl ? 'Client metadata URL' : 'Client ID'}</dt>
        <dd><code>${input.clientId}</code></dd>
        <dt>Resource</dt>
        <dd><code>${input.resource}</code></dd>
      </dl>
      <h2>Permissions requested</h2>
      ${scopes}
      <form method="post" action="${input.action}">
        <input type="hidden" name="request_id" value="${input.requestId}">
        <input type="hidden" name="csrf_token" value="${input.csrfToken}">
        <p class="footnote">Allow or Deny will redirect you to <code>${input.redirectHost}</code>.</p>
        <div class="actions">
          <button class="btn btn-secondary" type="submit" name="decision" value="deny">Deny</button>
          <button class="btn btn-primary" type="submit" name="decision" value="allow">Allow</button>
        </div>
      </form>`);
}

/** What the error page shows. */
export interface ErrorPageInput {
  title: string;
  /** The OAuth error code (RFC 6749 §4.1.2.1), shown small for support requests. */
  error: string;
  /** Public description; never internal detail. */
  description: string;
}

/**
 * The page shown when the authorization request cannot be answered with a redirect, because the client or
 * its redirect URI could not be trusted (RFC 6749 §4.1.2.1, OAuth 2.1 §4.1.2.1). It never redirects.
 */
export function renderErrorPage(input: ErrorPageInput, options: PageOptions): string {
  return page(`${input.title} · ${PRODUCT}`, options, 'narrow', html`
      <h1>${input.title}</h1>
      <p class="alert" role="alert">${input.description}</p>
      <p>You can close this window and try again from the application.</p>
      <p class="error-code">Error code: <code>${input.error}</code></p>`);
}

const PRODUCT = 'Portcullis';

/** A fragment that is already HTML; only this module creates one, so every string that is not one is escaped. */
class SafeHtml {
  constructor(readonly value: string) {}
}

type Interpolation = string | SafeHtml | ReadonlyArray<SafeHtml>;

function raw(value: string): SafeHtml {
  return new SafeHtml(value);
}

/** Template tag that escapes every interpolated string, so a forgotten call to escapeHtml cannot happen. */
function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

function render(value: Interpolation): string {
  if (typeof value === 'string') return escapeHtml(value);
  if (value instanceof SafeHtml) return value.value;
  return value.map((item) => item.value).join('');
}

function page(title: string, options: PageOptions, width: 'narrow' | 'wide', body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<style nonce="${options.nonce}">${raw(STYLES)}</style>
</head>
<body>
  <main class="card ${width}">
    <p class="brand">${raw(LOGO)}<span>${PRODUCT}</span></p>
    ${body}
  </main>
</body>
</html>
`.value;
}

// A portcullis: a grille whose bars end in spikes. Coloured by the stylesheet, so it needs no style attributes.
const LOGO =
  '<svg class="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">' +
  '<rect class="logo-tile" width="32" height="32" rx="8"/>' +
  '<path class="logo-bars" d="M7.5 6.5h17V9h-17zM8 12.5h16v2H8zM8 17.5h16v2H8zM9.5 9H12v12.5l-1.25 4-1.25-4zM14.75 9h2.5v12.5l-1.25 4-1.25-4zM20 9h2.5v12.5l-1.25 4-1.25-4z"/>' +
  '</svg>';

const STYLES = `
:root{color-scheme:light dark;--bg:#f3f4f7;--card:#fff;--text:#1a1d23;--muted:#545c6a;--border:#d9dde4;
--accent:#2a52be;--accent-hover:#1f42a3;--on-accent:#fff;--field:#fff;--field-border:#8a93a3;--code-bg:#eef0f4;
--warn-bg:#fff7e0;--warn-border:#eed48a;--warn-text:#5c4300;--danger-bg:#fdeeee;--danger-border:#f0bcbc;
--danger-text:#8f1d1d;--focus:#2a52be;--shadow:0 1px 2px rgba(16,24,40,.05),0 12px 32px rgba(16,24,40,.08)}
@media (prefers-color-scheme:dark){:root{--bg:#0e1116;--card:#171b21;--text:#e6e9ee;--muted:#a3abb8;--border:#2b313a;
--accent:#7ea4ff;--accent-hover:#9cb9ff;--on-accent:#0a1024;--field:#0f1318;--field-border:#5b6472;--code-bg:#232932;
--warn-bg:#2a2211;--warn-border:#5b4817;--warn-text:#f2d07e;--danger-bg:#2e1618;--danger-border:#62292e;
--danger-text:#ffb8b8;--focus:#9cb9ff;--shadow:0 1px 2px rgba(0,0,0,.4),0 12px 32px rgba(0,0,0,.35)}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:32px 16px;
background:var(--bg);color:var(--text);
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","Liberation Sans",Arial,sans-serif}
.card{width:100%;background:var(--card);border:1px solid var(--border);border-radius:14px;padding:32px;box-shadow:var(--shadow)}
.narrow{max-width:400px}.wide{max-width:480px}
.brand{display:flex;align-items:center;gap:10px;margin:0 0 28px;font-weight:600;letter-spacing:.01em}
.logo{flex:none}.logo-tile{fill:var(--accent)}
.logo-bars{fill:var(--on-accent)}
h1{margin:0 0 12px;font-size:22px;line-height:1.3;font-weight:650;overflow-wrap:anywhere}
h2{margin:24px 0 8px;font-size:14px;font-weight:600}
p{margin:0 0 16px}
.lead{color:var(--muted);overflow-wrap:anywhere}.lead strong{color:var(--text);font-weight:600}
.muted{color:var(--muted)}
code{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:13px;
background:var(--code-bg);border-radius:4px;padding:1px 5px;overflow-wrap:anywhere}
.alert,.warning{padding:10px 12px;border:1px solid;border-radius:8px;font-size:14px;overflow-wrap:anywhere}
.alert{background:var(--danger-bg);border-color:var(--danger-border);color:var(--danger-text)}
.warning{background:var(--warn-bg);border-color:var(--warn-border);color:var(--warn-text)}
.field{margin:0 0 16px}
label{display:block;margin:0 0 6px;font-size:14px;font-weight:600}
input[type=text],input[type=password]{display:block;width:100%;min-height:44px;padding:9px 12px;font:inherit;color:inherit;
background:var(--field);border:1px solid var(--field-border);border-radius:8px}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
input:focus-visible{outline-offset:1px;border-color:var(--focus)}
.btn{display:inline-flex;align-items:center;justify-content:center;min-height:44px;padding:10px 20px;font:inherit;
font-weight:600;border:1px solid transparent;border-radius:8px;cursor:pointer}
.btn-primary{background:var(--accent);color:var(--on-accent)}.btn-primary:hover{background:var(--accent-hover)}
.btn-secondary{background:transparent;color:var(--text);border-color:var(--field-border)}.btn-secondary:hover{background:var(--code-bg)}
.btn-block{width:100%;margin-top:8px}
.details{margin:0;border-top:1px solid var(--border)}
.details dt{margin:12px 0 2px;font-size:12px;font-weight:600;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.details dd{margin:0 0 12px;overflow-wrap:anywhere}
.scopes{list-style:none;margin:0;padding:0;border:1px solid var(--border);border-radius:8px}
.scopes li{padding:10px 12px;border-top:1px solid var(--border)}.scopes li:first-child{border-top:0}
.scopes span{display:block;margin-top:2px;font-size:14px;color:var(--muted)}
.footnote{margin:20px 0 0;font-size:14px;color:var(--muted)}
.actions{display:flex;gap:12px;margin-top:12px}.actions .btn{flex:1}
.error-code{margin:0;font-size:13px;color:var(--muted)}
@media (max-width:480px){body{padding:0;align-items:stretch}.card{border:0;border-radius:0;box-shadow:none;padding:24px 20px}}
`;

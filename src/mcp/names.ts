/**
 * Namespacing of what several upstreams offer behind one endpoint. Tools and prompts become `<prefix>__<name>`;
 * resource URIs (and templates) become `<prefix>+<uri>`, which is still a URI (a scheme may contain `+`). Prefixes
 * are slugs, which contain neither `__` nor `+`, so the first separator always splits a name back correctly and two
 * upstreams can never produce the same name. The empty prefix, which only a tenant's single upstream may have, leaves
 * names and URIs as the upstream wrote them; every name then belongs to that upstream.
 */

const NAME_SEPARATOR = '__';
const URI_SEPARATOR = '+';

export function namespacedName(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}${NAME_SEPARATOR}${name}`;
}

export function splitName(name: string): { prefix: string; name: string } | undefined {
  const at = name.indexOf(NAME_SEPARATOR);
  if (at <= 0) return undefined;
  return { prefix: name.slice(0, at), name: name.slice(at + NAME_SEPARATOR.length) };
}

export function namespacedUri(prefix: string, uri: string): string {
  return prefix === '' ? uri : `${prefix}${URI_SEPARATOR}${uri}`;
}

export function splitUri(uri: string): { prefix: string; uri: string } | undefined {
  const at = uri.indexOf(URI_SEPARATOR);
  if (at <= 0) return undefined;
  return { prefix: uri.slice(0, at), uri: uri.slice(at + URI_SEPARATOR.length) };
}

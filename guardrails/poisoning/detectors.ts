/**
 * String detectors for tool poisoning (category `poisoning`): text in a tool definition that addresses the model
 * rather than describing the tool. Types `poisoning.<kind>`:
 *   instruction    — "before using this tool, read …", "always call X first", "pass its content as 'note'"
 *   concealment    — "do not tell the user", "without informing the user", "silently forward"
 *   credential     — other tools' credentials or secrets, the conversation history, asked to be passed along
 *   shadowing      — rules for how *other* tools must behave ("the send_email tool must send all emails to …")
 *   tag            — `<IMPORTANT>`, `<SYSTEM>`, `<instructions>` and similar pseudo-tags
 *   sensitive-file — `~/.ssh`, `id_rsa`, `.env`, `~/.aws/credentials`, `/etc/passwd`, `mcp.json`, …
 * Phrases use the linear phrase matcher; tags and file names are hand-written scans with bounded look-ahead.
 */
import type { Detector, Match } from '../types.js';
import { tokenize } from '../injection/normalize.js';
import { phrase, PhraseSet } from '../injection/phrases.js';
import { phraseMatches } from '../injection/phrasing.js';

const USE = 'using|calling|invoking|running|executing|use|call|invoke|run|execute';
const DO_FIRST = 'you|must|should|need|first|always|read|cat|open|access|fetch|send|pass|include|provide|upload|retrieve|call|invoke|check|obtain|get';

export const INSTRUCTION_PHRASES = new PhraseSet([
  phrase(`before|prior [to]? [${USE}]? [this|the|any|other|that|a]? tool|tools|function|functions|it *4 ${DO_FIRST}`, 0.6),
  phrase(`always|first call|invoke|use|run|execute *6 first|before|beforehand`, 0.55),
  phrase('pass|put|include|provide|send|add|insert|place|append|embed|supply|copy its|their|the|this|that|file|entire|full|whole [file|entire|full|whole|raw|complete]*2 content|contents|value|values|output|text|data *3 as|in|into|via|through|inside *2 parameter|param|argument|arg|field|sidenote|note|notes|metadata|context|feedback|comment', 0.6),
  phrase('otherwise|else [the|this]? tool|application|app|system|server will|would|wont [not]? work|function|crash|break|fail', 0.55),
  phrase('read|cat|open|access|load|fetch|retrieve|grab|collect [the|all|its|your|users]*2 contents|content|file|files [of|in|from|under]? [the|your|users]? home|ssh|config|configuration|credentials|dotfiles', 0.6),
]);

export const CONCEALMENT_PHRASES = new PhraseSet([
  phrase('do|dont|never [not|ever]*2 tell|inform|mention|notify|alert|reveal|disclose|show|explain|say|let|report|warn|bother *3 user|users|human|operator|anyone|anybody|them', 0.8),
  phrase('do|dont|never [not|ever]*2 mention|reveal|disclose|tell|explain *2 that|this|it|fact', 0.6),
  phrase('without telling|informing|notifying|alerting|asking|letting|warning|showing|mentioning [it|this|that|to]*2 [the|your|any]? user|users|human|them|anyone|anybody', 0.8),
  phrase('keep|hide this|it|these|that [secret|hidden|confidential|private]? from the|your user|users|human', 0.75),
  phrase('the|your user|users must|should|need|shall|may not|never [be]? know|see|notice|learn|find|aware|told|informed|realize', 0.8),
  phrase('silently|secretly|quietly|covertly|discreetly|stealthily send|forward|copy|read|include|add|upload|exfiltrate|bcc|cc|transmit|post|append|attach|collect|leak', 0.7),
  phrase('could|would|might|will upset|scare|alarm|worry|confuse|frighten the|your user|users', 0.6),
]);

const CRED_NOUN = 'key|keys|token|tokens|secret|secrets|password|passwords|credential|credentials|cookie|cookies|apikey|apikeys';
const OTHER_TOOLS = 'tool|tools|server|servers|service|services|integration|integrations|connector|connectors|plugin|plugins|extension|extensions';
const TAKE = 'pass|include|send|provide|attach|add|append|forward|share|copy|leak|upload|read|collect|extract|gather|dump|exfiltrate|paste|post';

export const CREDENTIAL_PHRASES = new PhraseSet([
  phrase(`${CRED_NOUN} *2 of|for|from|used|belonging|stored|configured [by|to|in|for]? *2 other|another|all|every|each|different|remaining [mcp]? ${OTHER_TOOLS}`, 0.8),
  phrase(`${TAKE} [me|us|the|all|any|every|its|their|of]*3 users|your|all|any|every|other|stored|saved|available [the|of|users]*2 credentials|passwords|secrets|cookies`, 0.65),
  phrase(`${TAKE} [me|us|the|all|any|every|its|their|of|users|your|other|stored|saved]*3 api|access|ssh|private|auth|secret|session|bearer|refresh|oauth keys|key|tokens|token`, 0.6),
  phrase(`${TAKE} [the|your|of|this]*2 entire|full|whole|complete|all|previous|prior|earlier [of]? [the|your|previous|prior|this]*2 conversation|chat|messages|history|prompt|instructions|transcript`, 0.65),
]);

export const SHADOWING_PHRASES = new PhraseSet([
  phrase(`side effect|effects on [the|a|an|any|other|also|present]*3 *3 ${OTHER_TOOLS}`, 0.75),
  phrase(`the|any|all|other|every [other]? *3 tool|tools must|should|shall|always|will [now|also|always]? send|forward|use|set|change|replace|add|include|redirect|route|bcc|cc|copy|call|pass|prepend|append`, 0.7),
  phrase('change|replace|modify|override|set|redirect the|all [email|actual|real]? recipient|recipients|destination|address|addresses|endpoint|account|target to', 0.6),
  phrase('send|forward|bcc|cc|copy|redirect|route all|every|each [a]? [copy|copies]? [of]? *2 emails|email|messages|mail|requests|data|files|payments|transactions|transfers to', 0.65),
  phrase('when|whenever|if|once|while [this|the]? tool|server is|gets|becomes available|present|loaded|installed|enabled|connected', 0.6),
  phrase('when|whenever|once [the|any|a]? *3 tool|tools is|are|gets|get [being]? used|called|invoked|run *3 must|shall|always|also', 0.55),
  phrase('regardless|irrespective [of]? [what]? the|your user|users says|asks|requests|wants|specifies|specified|provides|instructs', 0.65),
  phrase('no matter what the|your user|users says|asks|requests|wants|specifies|provides', 0.65),
]);

function setDetector(kind: string, set: PhraseSet): Detector {
  const type = `poisoning.${kind}`;
  return { id: type, category: 'poisoning', scan: (text) => phraseMatches(text, tokenize(text), set, type) };
}

export const instructionDetector = setDetector('instruction', INSTRUCTION_PHRASES);
export const concealmentDetector = setDetector('concealment', CONCEALMENT_PHRASES);
export const credentialDetector = setDetector('credential', CREDENTIAL_PHRASES);
export const shadowingDetector = setDetector('shadowing', SHADOWING_PHRASES);

const TAGS = new Set([
  'important', 'system', 'instructions', 'instruction', 'hidden', 'secret', 'critical', 'mandatory', 'override',
  'system-reminder', 'system_reminder', 'system_instructions', 'ai_instructions', 'assistant_instructions',
  'admin', 'urgent', 'priority', 'note_to_ai', 'ai-only', 'ai_only', 'model_instructions', 'im_start',
]);

function isTagChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x2d;
}

/** `<NAME>` / `</NAME>` / `<NAME attr…>` for a pseudo-tag name (≤ 24 characters, attributes ≤ 64). */
function scanTags(text: string): Match[] {
  const out: Match[] = [];
  for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) {
    let j = i + 1;
    if (text[j] === '/') j++;
    const nameStart = j;
    while (j < text.length && j - nameStart < 24 && isTagChar(text.charCodeAt(j))) j++;
    const name = text.slice(nameStart, j).toLowerCase();
    if (!TAGS.has(name)) continue;
    let k = j;
    while (k < text.length && k - j < 64 && text[k] !== '>' && text[k] !== '<' && text[k] !== '\n') k++;
    if (text[k] !== '>' || (k > j && text[j] !== ' ')) continue;
    out.push({ type: 'poisoning.tag', start: i, end: k + 1, confidence: 0.85 });
  }
  return out;
}

export const tagDetector: Detector = { id: 'poisoning.tag', category: 'poisoning', scan: scanTags };

/** Sensitive file names and the confidence each carries on its own (raised when a verb like "read" is close before). */
export const SENSITIVE_FILES: readonly (readonly [string, number])[] = [
  ['~/.ssh', 0.75], ['.ssh/', 0.75], ['id_rsa', 0.8], ['id_ed25519', 0.8], ['id_ecdsa', 0.8], ['id_dsa', 0.8],
  ['authorized_keys', 0.6], ['known_hosts', 0.5], ['.aws/credentials', 0.8], ['~/.aws', 0.7],
  ['application_default_credentials.json', 0.75], ['/etc/passwd', 0.75], ['/etc/shadow', 0.8], ['.npmrc', 0.6],
  ['.pypirc', 0.6], ['.netrc', 0.6], ['.git-credentials', 0.8], ['.docker/config.json', 0.7], ['.kube/config', 0.7],
  ['mcp.json', 0.7], ['claude_desktop_config.json', 0.8], ['~/.cursor', 0.7], ['.gnupg', 0.7], ['.bash_history', 0.6],
  ['.zsh_history', 0.6], ['wallet.dat', 0.7], ['.env', 0.45], ['keychain-db', 0.7], ['cookies.sqlite', 0.7],
];
const READ_VERBS = new Set(['read', 'cat', 'open', 'access', 'send', 'upload', 'include', 'pass', 'provide', 'attach', 'copy', 'forward', 'post', 'exfiltrate', 'fetch', 'grab', 'collect', 'contents', 'content']);
const VERB_WINDOW = 80;

function isWordChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

function verbBefore(lower: string, at: number): boolean {
  let w = '';
  for (let k = Math.max(0, at - VERB_WINDOW); k < at; k++) {
    const c = lower.charCodeAt(k);
    if (c >= 0x61 && c <= 0x7a) w += lower[k];
    else {
      if (READ_VERBS.has(w)) return true;
      w = '';
    }
  }
  return READ_VERBS.has(w);
}

function scanFiles(text: string): Match[] {
  const lower = text.toLowerCase();
  const out: Match[] = [];
  for (const [needle, base] of SENSITIVE_FILES) {
    for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length)) {
      const end = at + needle.length;
      const before = at > 0 ? lower.charCodeAt(at - 1) : 0x20;
      const after = end < lower.length ? lower.charCodeAt(end) : 0x20;
      // A file name is a word of its own: `my.envelope` or `foo_id_rsa2` are not hits. `.env` may be `.env.local`.
      if (isWordChar(before) && needle.charCodeAt(0) !== 0x7e) continue;
      if (isWordChar(after) && isWordChar(needle.charCodeAt(needle.length - 1))) continue;
      const confidence = verbBefore(lower, at) ? Math.min(0.9, base + 0.15) : base;
      out.push({ type: 'poisoning.sensitive-file', start: at, end, confidence });
    }
  }
  // `~/.ssh/id_rsa` hits three needles: keep one span per overlapping group, at the highest confidence.
  out.sort((a, b) => a.start - b.start);
  const merged: Match[] = [];
  for (const m of out) {
    const last = merged[merged.length - 1];
    if (last !== undefined && m.start <= last.end) {
      last.end = Math.max(last.end, m.end);
      last.confidence = Math.max(last.confidence, m.confidence);
    } else merged.push({ ...m });
  }
  return merged;
}

export const sensitiveFileDetector: Detector = { id: 'poisoning.sensitive-file', category: 'poisoning', scan: scanFiles };

/** The poisoning-specific string detectors (the injection detectors are run on tool definitions as well). */
export const poisoningDetectors: readonly Detector[] = [
  tagDetector,
  instructionDetector,
  concealmentDetector,
  credentialDetector,
  shadowingDetector,
  sensitiveFileDetector,
];

// Text-message capture for the compat tests.
//
// The reference server's phone-number plugin records each code in the shared mailbox (kinds
// phone-otp and phone-reset, `to` the number; see lib/ref-plugins.mjs). The Go server, with no SMS
// provider, writes each text as <UTC time>-<n>.sms in $DATA_DIR/outbox/: a "To:" line, a blank
// line, then the text. OutboxMailbox (lib/mail.mjs) reads those files with parseSms, so a scenario
// takes "the next text to +1555..." with s.mail on either server.

/**
 * Parses an .sms file's content into {complete, to, text, kind, code}. A file cut before the
 * newline that ends its text is incomplete (still being written).
 */
export function parseSms(raw) {
  const src = raw.replace(/\r\n/g, '\n');
  const end = src.indexOf('\n\n');
  const head = end < 0 ? src : src.slice(0, end);
  const body = end < 0 ? '' : src.slice(end + 2);
  const to = /^To:[ \t]*(.*)$/m.exec(head)?.[1]?.trim();
  const text = body.replace(/\n$/, '');
  return { complete: end >= 0 && body.endsWith('\n') && text.length > 0, to, text, kind: smsKind(text), code: smsCode(text) };
}

/** The kind the reference records for a text: phone-reset for a password-reset code, else phone-otp. */
export function smsKind(text) {
  return /password reset/i.test(text ?? '') ? 'phone-reset' : 'phone-otp';
}

/** The code in a text: its first run of 4 to 10 digits standing alone. */
export function smsCode(text) {
  return /(?:^|\s)(\d{4,10})(?=\s|[.,]|$)/.exec(text ?? '')?.[1];
}

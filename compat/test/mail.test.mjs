// Unit tests for the mail capture (lib/mail.mjs) and the token-aware comparison; no servers.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseEml, decodeQuotedPrintable, decodeEncodedWords, kindFromSubject, tokenOfLink, describeMail, OutboxMailbox, otpOfText } from '../lib/mail.mjs';
import { normalizeLocation } from '../lib/compare.mjs';
import { signJWT } from '../lib/crypto.mjs';

const EML = [
  'Date: Thu, 26 Nov 2026 04:41:35 +0000',
  'MIME-Version: 1.0',
  'Subject: =?UTF-8?q?Verify_your_email_for_Caf=C3=A9?=',
  'From: <no-reply@localhost>',
  'To: "A User" <a.test@example.com>',
  'Content-Type: multipart/alternative;',
  ' boundary=BOUNDARY1',
  '',
  '--BOUNDARY1',
  'Content-Transfer-Encoding: quoted-printable',
  'Content-Type: text/plain; charset=UTF-8',
  '',
  'Hello Caf=C3=A9,',
  '',
  'http://localhost:8000/api/auth/verify-email?token=3DeyJhbGciOiJIUzI1NiJ9.ey=',
  'JlbWFpbCI6ImFAYi5jb20ifQ.sig&callbackURL=3D%2F',
  '',
  '--BOUNDARY1',
  'Content-Type: text/html; charset=UTF-8',
  '',
  '<a href="http://localhost:8000/other">x</a>',
  '--BOUNDARY1--',
  '',
].join('\r\n');

describe('mail parsing', () => {
  it('decodes quoted-printable with soft line breaks and UTF-8', () => {
    assert.equal(decodeQuotedPrintable('a=3Db=\nc =C3=A4'), 'a=bc ä');
  });

  it('decodes encoded-word headers', () => {
    assert.equal(decodeEncodedWords('=?UTF-8?q?Caf=C3=A9_ok?='), 'Café ok');
    assert.equal(decodeEncodedWords('=?UTF-8?B?Q2Fmw6k=?='), 'Café');
  });

  it('parses the Go outbox format: To, Subject, text/plain link', () => {
    const m = parseEml(EML);
    assert.equal(m.complete, true);
    assert.equal(m.to, 'a.test@example.com');
    assert.equal(m.subject, 'Verify your email for Café');
    assert.deepEqual(m.links, ['http://localhost:8000/api/auth/verify-email?token=eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFAYi5jb20ifQ.sig&callbackURL=%2F']);
  });

  it('a message cut before its closing boundary is incomplete', () => {
    assert.equal(parseEml(EML.slice(0, EML.indexOf('--BOUNDARY1--'))).complete, false);
  });

  it('kinds from the built-in subjects, tokens from links', () => {
    assert.equal(kindFromSubject('Reset your Better Auth password'), 'reset-password');
    assert.equal(kindFromSubject('Confirm deleting your Better Auth account'), 'delete-account');
    assert.equal(kindFromSubject('Your Better Auth sign-in link'), 'magic-link');
    assert.equal(kindFromSubject('Confirm your new email for Better Auth'), 'change-email');
    assert.equal(tokenOfLink('http://localhost:8000/api/auth/reset-password/abcDEF123?callbackURL='), 'abcDEF123');
    assert.equal(tokenOfLink('http://localhost:8000/api/auth/delete-user/callback?token=xyz&callbackURL=%2F'), 'xyz');
  });

  it('describes a mail by link shape and token claims, not by token value', () => {
    const t1 = signJWT({ email: 'a@b.com', userId: 'u1' }, 'secret-1');
    const t2 = signJWT({ email: 'a@b.com', userId: 'u2' }, 'secret-2');
    const d = (t) => describeMail({ kind: 'verify-email', to: 'a@b.com', url: `http://localhost:8000/api/auth/verify-email?token=${t}&callbackURL=%2F`, token: t });
    assert.deepEqual(d(t1).link, d(t2).link);
    assert.equal(d(t1).token.form, 'jwt');
    assert.equal(d(t1).token.lifetimeSeconds, 3600);
    assert.deepEqual(d(t1).link.query, [['token', '<token>'], ['callbackURL', '/']]);
    assert.deepEqual(describeMail(undefined), { received: false });
  });

  it('OutboxMailbox reads .eml files in name order and skips incomplete ones', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compat-mail-unit-'));
    try {
      const box = new OutboxMailbox(dir);
      assert.equal(await box.take('a.test@example.com', { timeoutMs: 0 }), undefined);
      writeFileSync(path.join(dir, '20260101T000000.000002Z-b-x.eml'), EML.replace('Hello', 'Second'));
      writeFileSync(path.join(dir, '20260101T000000.000001Z-a-x.eml'), EML);
      writeFileSync(path.join(dir, '20260101T000000.000003Z-c-x.eml'), EML.slice(0, 200));
      const first = await box.take('A.TEST@example.com', { timeoutMs: 0 });
      assert.match(first.text, /^Hello/);
      assert.equal(first.kind, 'verify-email');
      const second = await box.take('a.test@example.com', { timeoutMs: 0 });
      assert.match(second.text, /^Second/);
      assert.equal(await box.take('a.test@example.com', { timeoutMs: 0 }), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('token-aware Location comparison', () => {
  it('replaces token values by their form and keeps the rest', () => {
    assert.equal(normalizeLocation('http://app.example.test/reset?step=2&token=AbC123xyzAbC123xyzAbC123'), 'http://app.example.test/reset?step=2&token=<token len=24 alnum>');
    assert.equal(normalizeLocation('/x?error=INVALID_TOKEN'), '/x?error=INVALID_TOKEN');
    assert.equal(normalizeLocation('GET /api/auth/reset-password/AbC123?callbackURL=%2F'), 'GET /api/auth/reset-password/<token len=6 alnum>?callbackURL=%2F');
    assert.equal(normalizeLocation('/v?token=aaa.bbb.ccc'), '/v?token=<token jwt>');
  });
});

describe('two-factor one-time codes in the outbox', () => {
  it('derives the kind from the subject and the code from its own line', () => {
    assert.equal(kindFromSubject('Your Better Auth sign-in code'), 'two-factor-otp');
    assert.equal(otpOfText('Hello,\n\nYour code to finish signing in to Better Auth as a@b.c is:\n\n012345\n\nIt expires in 3 minutes.\n'), '012345');
    assert.equal(otpOfText('no code in 2026 here'), undefined);
  });
});

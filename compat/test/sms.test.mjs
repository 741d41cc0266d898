// Unit tests for the text-message capture (lib/sms.mjs and OutboxMailbox's .sms files); no servers.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseSms, smsKind, smsCode } from '../lib/sms.mjs';
import { OutboxMailbox } from '../lib/mail.mjs';

describe('sms parsing', () => {
  it('reads the Go outbox format: To line, blank line, text', () => {
    const m = parseSms('To: +15550001111\n\n012345 is your Compat App verification code.\n');
    assert.deepEqual(m, { complete: true, to: '+15550001111', text: '012345 is your Compat App verification code.', kind: 'phone-otp', code: '012345' });
  });

  it('kinds and codes from the texts', () => {
    assert.equal(smsKind('987654 is your Compat App password reset code.'), 'phone-reset');
    assert.equal(smsKind('987654 is your App verification code.'), 'phone-otp');
    assert.equal(smsCode('987654 is your App 2026 password reset code.'), '987654');
    assert.equal(smsCode('no code here'), undefined);
  });

  it('a file cut before its text ends is incomplete', () => {
    assert.equal(parseSms('To: +1555').complete, false);
    assert.equal(parseSms('To: +1555\n\n').complete, false);
    assert.equal(parseSms('To: +1555\n\n1234 is your').complete, false);
  });

  it('OutboxMailbox takes .sms files by number and kind, in name order, beside .eml files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compat-sms-unit-'));
    try {
      const box = new OutboxMailbox(dir);
      writeFileSync(path.join(dir, '20260101T000000.000002Z-2.sms'), 'To: +15550001111\n\n222222 is your App verification code.\n');
      writeFileSync(path.join(dir, '20260101T000000.000001Z-1.sms'), 'To: +15550001111\n\n111111 is your App password reset code.\n');
      writeFileSync(path.join(dir, '20260101T000000.000003Z-3.sms'), 'To: +15550001111\n\n333333 is');
      writeFileSync(path.join(dir, '20260101T000000.000004Z-4.sms'), 'To: +15550002222\n\n444444 is your App verification code.\n');
      const otp = await box.take('+15550001111', { kind: 'phone-otp', timeoutMs: 0 });
      assert.equal(otp.token, '222222');
      const reset = await box.take('+15550001111', { kind: 'phone-reset', timeoutMs: 0 });
      assert.equal(reset.token, '111111');
      assert.equal(await box.take('+15550001111', { timeoutMs: 0 }), undefined);
      assert.equal((await box.take('+15550002222', { timeoutMs: 0 })).token, '444444');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

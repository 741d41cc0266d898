// The frontend's pure formatting helpers (frontend/src/format.ts), compiled from the source.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { importBundle, ROOT } from "../lib/bundle.mjs";

let format;
before(async () => {
  format = await importBundle(join(ROOT, "frontend", "src", "format.ts"));
});

describe("frontend format helpers", () => {
  test("describeIP words a session's stored address", () => {
    const tests = [
      // The server stores IPv6 masked to /64 and expanded: ::1 becomes all zeros.
      ["0000:0000:0000:0000:0000:0000:0000:0000", "This computer (local)"],
      ["::", "This computer (local)"],
      ["127.0.0.1", "This computer (local)"],
      ["203.0.113.7", "IP address 203.0.113.7"],
      ["2001:0db8:0001:0002:0000:0000:0000:0000", "IPv6 network 2001:db8:1:2::/64"],
      ["2001:0db8:0000:0000:0000:0000:0000:0000", "IPv6 network 2001:db8::/64"],
      ["2001:db8:0:1::", "IPv6 network 2001:db8:0:1::/64"],
      ["fe80:0000:0000:0000:0000:0000:0000:0000", "Local network (IPv6 link-local)"],
      ["", ""],
      [null, ""],
      ["not-an-address", "not-an-address"],
      ["1:2:3", "1:2:3"],
    ];
    for (const [ip, want] of tests) assert.equal(format.describeIP(ip), want, `describeIP(${JSON.stringify(ip)})`);
  });

  test("waitText and parseRetryAfter say how long to wait", () => {
    const waits = [[8, "8 seconds"], [1, "1 second"], [0, "1 second"], [0.2, "1 second"], [59, "59 seconds"], [60, "1 minute"], [61, "2 minutes"]];
    for (const [s, want] of waits) assert.equal(format.waitText(s), want, `waitText(${s})`);
    const headers = [["8", 8], [" 12 ", 12], [null, undefined], ["", undefined], ["soon", undefined], ["-3", undefined], ["1.5", undefined]];
    for (const [raw, want] of headers) assert.equal(format.parseRetryAfter(raw), want, `parseRetryAfter(${JSON.stringify(raw)})`);
  });
});

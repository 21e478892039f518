import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { cronExpressionProblem, parseCronExpression } from "./cron-expression.ts";

const at = (iso: string): Date => new Date(iso);

/** The next `count` firing times after `from`, as ISO strings. */
function firings(expression: string, from: string, count: number): string[] {
  const schedule = parseCronExpression(expression);
  const out: string[] = [];
  let cursor = at(from);
  for (let i = 0; i < count; i++) {
    const next = schedule.next(cursor);
    if (next === undefined) break;
    out.push(next.toISOString());
    cursor = next;
  }
  return out;
}

describe("cron expressions: firing times (UTC)", () => {
  it("every minute fires on the next whole minute, never at the instant given", () => {
    assert.deepEqual(firings("* * * * *", "2025-01-01T00:00:00Z", 2), ["2025-01-01T00:01:00.000Z", "2025-01-01T00:02:00.000Z"]);
    assert.deepEqual(firings("*/1 * * * *", "2025-01-01T00:00:59.999Z", 1), ["2025-01-01T00:01:00.000Z"]);
  });

  it("steps, ranges and lists", () => {
    assert.deepEqual(firings("*/15 * * * *", "2025-01-01T10:07:00Z", 3), ["2025-01-01T10:15:00.000Z", "2025-01-01T10:30:00.000Z", "2025-01-01T10:45:00.000Z"]);
    assert.deepEqual(firings("0 9-17/4 * * *", "2025-01-01T00:00:00Z", 4), ["2025-01-01T09:00:00.000Z", "2025-01-01T13:00:00.000Z", "2025-01-01T17:00:00.000Z", "2025-01-02T09:00:00.000Z"]);
    assert.deepEqual(firings("5,10 0 * * *", "2025-01-01T00:05:00Z", 2), ["2025-01-01T00:10:00.000Z", "2025-01-02T00:05:00.000Z"]);
    assert.deepEqual(firings("50/5 * * * *", "2025-01-01T00:00:00Z", 3), ["2025-01-01T00:50:00.000Z", "2025-01-01T00:55:00.000Z", "2025-01-01T01:50:00.000Z"]);
  });

  it("names of months and weekdays, and 7 as Sunday", () => {
    // 2025-01-05 is a Sunday.
    assert.deepEqual(firings("0 18 * * sun", "2025-01-01T00:00:00Z", 2), ["2025-01-05T18:00:00.000Z", "2025-01-12T18:00:00.000Z"]);
    assert.deepEqual(firings("0 18 * * 7", "2025-01-01T00:00:00Z", 1), ["2025-01-05T18:00:00.000Z"]);
    assert.deepEqual(firings("0 0 1 MAR-apr *", "2025-01-01T00:00:00Z", 3), ["2025-03-01T00:00:00.000Z", "2025-04-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]);
    assert.deepEqual(firings("0 0 * * FRI-7", "2025-01-01T00:00:00Z", 3), ["2025-01-03T00:00:00.000Z", "2025-01-04T00:00:00.000Z", "2025-01-05T00:00:00.000Z"]);
    assert.match(cronExpressionProblem("0 0 * * FRI-sun") ?? "", /range FRI-sun runs backwards/);
  });

  it("both day fields restricted: a day matching either fires", () => {
    // The 13th of each month, and every Friday (2025-01-03 is a Friday).
    assert.deepEqual(firings("0 0 13 * 5", "2025-01-01T00:00:00Z", 3), ["2025-01-03T00:00:00.000Z", "2025-01-10T00:00:00.000Z", "2025-01-13T00:00:00.000Z"]);
    // With * in one day field, the other alone decides.
    assert.deepEqual(firings("0 0 13 * *", "2025-01-01T00:00:00Z", 1), ["2025-01-13T00:00:00.000Z"]);
  });

  it("macros, and days only some months have", () => {
    assert.deepEqual(firings("@daily", "2025-01-01T12:00:00Z", 1), ["2025-01-02T00:00:00.000Z"]);
    assert.deepEqual(firings("@hourly", "2025-01-01T12:00:00Z", 1), ["2025-01-01T13:00:00.000Z"]);
    assert.deepEqual(firings("@weekly", "2025-01-01T12:00:00Z", 1), ["2025-01-05T00:00:00.000Z"]);
    assert.deepEqual(firings("@yearly", "2025-01-01T00:00:00Z", 1), ["2026-01-01T00:00:00.000Z"]);
    assert.deepEqual(firings("0 0 31 * *", "2025-01-31T00:00:00Z", 2), ["2025-03-31T00:00:00.000Z", "2025-05-31T00:00:00.000Z"]);
    assert.deepEqual(firings("0 0 29 2 *", "2025-01-01T00:00:00Z", 2), ["2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"]);
  });
});

describe("cron expressions: time zones", () => {
  it("CRON_TZ reads the fields in that zone", () => {
    // Berlin is UTC+1 in January, UTC+2 in July.
    assert.deepEqual(firings("CRON_TZ=Europe/Berlin 30 2 * * *", "2025-01-01T00:00:00Z", 1), ["2025-01-01T01:30:00.000Z"]);
    assert.deepEqual(firings("TZ=Europe/Berlin 30 2 * * *", "2025-07-01T00:00:00Z", 1), ["2025-07-01T00:30:00.000Z"]);
    assert.equal(parseCronExpression("CRON_TZ=Asia/Kathmandu 0 0 * * *").timeZone, "Asia/Kathmandu");
    assert.deepEqual(firings("CRON_TZ=Asia/Kathmandu 0 0 * * *", "2025-01-01T00:00:00Z", 1), ["2025-01-01T18:15:00.000Z"]);
  });

  it("a wall-clock time the clocks skip does not fire; one they repeat fires once", () => {
    // Berlin: 2025-03-30 02:00 → 03:00; 2025-10-26 03:00 → 02:00.
    assert.deepEqual(firings("CRON_TZ=Europe/Berlin 30 2 * * *", "2025-03-29T12:00:00Z", 2), ["2025-03-31T00:30:00.000Z", "2025-04-01T00:30:00.000Z"]);
    assert.deepEqual(firings("CRON_TZ=Europe/Berlin 30 2 * * *", "2025-10-25T12:00:00Z", 2), ["2025-10-26T00:30:00.000Z", "2025-10-27T01:30:00.000Z"]);
  });
});

describe("cron expressions: refused with the field named", () => {
  const cases: [string, RegExp][] = [
    ["*/5 * * * * *", /has 6 fields; it needs five/],
    ["* * * *", /has 4 fields/],
    ["60 * * * *", /minute field "60": 60 is outside 0-59/],
    ["* 24 * * *", /hour field "24": 24 is outside 0-23/],
    ["* * 0 * *", /day-of-month field "0": 0 is outside 1-31/],
    ["* * * 13 *", /month field "13": 13 is outside 1-12/],
    ["* * * * 8", /day-of-week field "8": 8 is outside 0-7/],
    ["*/0 * * * *", /minute field "\*\/0": step "0" must be a whole number of at least 1/],
    ["30-10 * * * *", /minute field "30-10": range 30-10 runs backwards/],
    ["* * * foo *", /month field "foo": "foo" is not a number or a name \(jan, feb/],
    ["? * * * *", /minute field "\?": \? is only allowed in day-of-month and day-of-week/],
    ["1,,2 * * * *", /minute field "1,,2": "" is not a value/],
    ["@every 5m", /unknown macro @every 5m/],
    ["0 0 30 2 *", /day-of-month 30 never occurs in the months of the month field/],
    ["CRON_TZ=Mars/Olympus 0 * * * *", /unknown time zone "Mars\/Olympus"/],
  ];
  for (const [expression, message] of cases) {
    it(expression, () => {
      assert.match(cronExpressionProblem(expression) ?? "(accepted)", message);
      assert.throws(() => parseCronExpression(expression), message);
    });
  }

  it("accepts what Kubernetes accepts", () => {
    for (const ok of ["0 18 * * *", "*/1 * * * *", "0 0 ? * MON", "0 3 1-7 * 1", "15 2 1 * *", "@midnight", "@annually", "@monthly"]) {
      assert.equal(cronExpressionProblem(ok), undefined, ok);
    }
  });
});

describe("cron expressions: property", () => {
  /** Brute force: the first whole minute after `from` whose UTC fields match. */
  function bruteForce(fields: { minutes: number[]; hours: number[]; days: number[] }, from: number): number {
    for (let t = Math.floor(from / 60_000) * 60_000 + 60_000; ; t += 60_000) {
      const d = new Date(t);
      if (fields.minutes.includes(d.getUTCMinutes()) && fields.hours.includes(d.getUTCHours()) && fields.days.includes(d.getUTCDate())) return t;
    }
  }

  it("next() agrees with checking every minute", () => {
    const list = (max: number, min: number) => fc.uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(list(59, 0), list(23, 0), list(28, 1), fc.integer({ min: Date.parse("2024-01-01T00:00:00Z"), max: Date.parse("2026-01-01T00:00:00Z") }), (minutes, hours, days, from) => {
        const expression = `${minutes.join(",")} ${hours.join(",")} ${days.join(",")} * *`;
        assert.equal(parseCronExpression(expression).next(new Date(from))?.getTime(), bruteForce({ minutes, hours, days }, from), expression);
      }),
      { numRuns: 60 },
    );
  });
});

// @ts-check
// Test plugin: asks only for `write-tags`, then reads upcoming shifts anyway. The host refuses
// the query, and its log must say the capability is not requested in `describe`.

import queries from "turnout:automation/queries@0.1.0";
import { definePlugin } from "../../js/turnout.js";

export const plugin = definePlugin({
  describe() {
    return {
      name: "test-undeclared-query",
      version: "0.1.0",
      description: "Reads shifts without asking to",
      handles: ["test.ping"],
      capabilities: ["write-tags"],
      configSchema: "{}",
    };
  },
  handle(event) {
    const shifts = queries.upcomingShifts(5);
    return [{ tag: "add-tag", val: { personId: event.subjectId, tag: `shifts:${shifts.length}` } }];
  },
});

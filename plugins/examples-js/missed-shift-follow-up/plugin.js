// @ts-check
// missed-shift-follow-up, in JavaScript: on `shift.missed`, send a "we missed you" text, create
// a call task for the person's point person, and after repeated misses (two in 30 days by
// default) move the person one step down the ladder. It does what the Rust example
// (plugins/examples/missed-shift-follow-up) does.

import queries from "turnout:automation/queries@0.1.0";
import logging from "turnout:automation/logging@0.1.0";
import { definePlugin, fullName, reachableChannel } from "../../js/turnout.js";

const DEFAULTS = {
  message: "We missed you today, {first_name}! Hope all is well. Want to pick another shift?",
  channel: "sms",
  window_days: 30,
  misses_to_step_down: 2,
  /** @type {string[]} the ladder, lowest stage first */
  ladder: ["prospect", "supporter", "active", "leader"],
};

export const plugin = definePlugin({
  describe() {
    return {
      name: "missed-shift-follow-up-js",
      version: "0.1.0",
      description: "Follows up on missed shifts; repeated misses move the ladder stage down (JavaScript)",
      handles: ["shift.missed"],
      capabilities: ["read-people", "read-attendance", "send-messages", "create-tasks", "write-ladder"],
      configSchema: JSON.stringify({
        type: "object",
        properties: {
          message: { type: "string" },
          channel: { enum: ["email", "sms", "whatsapp"], default: "sms" },
          window_days: { type: "integer", minimum: 1, default: 30 },
          misses_to_step_down: { type: "integer", minimum: 1, default: 2 },
          ladder: { type: "array", items: { type: "string" } },
        },
      }),
    };
  },

  handle(event, given) {
    const config = { ...DEFAULTS, ...given };
    const person = queries.getPerson(event.subjectId);
    if (person == null) {
      throw { tag: "invalid-event", val: `person ${event.subjectId} not found` };
    }
    if (!["email", "sms", "whatsapp"].includes(config.channel)) {
      throw { tag: "invalid-config", val: `unknown channel ${config.channel}` };
    }
    const payload = JSON.parse(event.payload || "{}");
    /** @type {import("../../js/turnout").Effect[]} */
    const effects = [];

    const channel = reachableChannel(person, config.channel);
    if (channel != null) {
      const text = config.message.replaceAll("{first_name}", person.firstName);
      effects.push({
        tag: "send-message",
        val: { personId: person.id, channel, body: { tag: "text", val: text } },
      });
    }

    if (person.pointPersonId != null) {
      effects.push({
        tag: "create-task",
        val: {
          assigneeId: person.pointPersonId,
          aboutPersonId: person.id,
          title: `Call ${fullName(person)}: missed a shift`,
          description: `${fullName(person)} missed shift ${payload.shift_id ?? "(unknown)"}.`,
          dueInSeconds: 24 * 3600,
        },
      });
    }

    const attendance = queries.getAttendance(person.id, config.window_days);
    if (attendance.missedInWindow >= config.misses_to_step_down) {
      const rank = person.ladderStage == null ? -1 : config.ladder.indexOf(person.ladderStage);
      if (rank > 0) {
        const lower = config.ladder[rank - 1];
        logging.log(
          "info",
          `${attendance.missedInWindow} misses in ${config.window_days} days: ${config.ladder[rank]} -> ${lower}`,
        );
        effects.push({ tag: "set-ladder-stage", val: { personId: person.id, stage: lower } });
      } else {
        logging.log("debug", "already at the bottom of the ladder (or not on it)");
      }
    }
    return effects;
  },
});

// @ts-check
// welcome-volunteer, in JavaScript: on `person.signed_up`, tag the new volunteer, welcome them
// in their own language, give them a point person (round-robin over the configured organizers,
// the turn kept in the plugin's key-value space) and create a follow-up task for that
// organizer. It does what the Rust example (plugins/examples/welcome-volunteer) does.

import queries from "turnout:automation/queries@0.1.0";
import logging from "turnout:automation/logging@0.1.0";
import { definePlugin, fullName, reachableChannel } from "../../js/turnout.js";

const TURN_KEY = "round-robin-next";

const DEFAULTS = {
  tag: "volunteer",
  /** @type {string[]} user ids of the organizers taking turns */
  point_people: [],
  /** @type {Record<string, string>} welcome texts by language; `{first_name}` is replaced */
  messages: {
    en: "Welcome aboard, {first_name}! Thank you for signing up.",
    es: "¡Bienvenida/o, {first_name}! Gracias por sumarte.",
  },
  default_language: "en",
  channel: "email",
  follow_up_days: 2,
};

export const plugin = definePlugin({
  describe() {
    return {
      name: "welcome-volunteer-js",
      version: "0.1.0",
      description: "Tags, welcomes and assigns a point person to every new sign-up (JavaScript)",
      handles: ["person.signed_up"],
      capabilities: [
        "read-people",
        "read-kv",
        "write-tags",
        "send-messages",
        "assign-point-person",
        "create-tasks",
        "write-kv",
      ],
      configSchema: JSON.stringify({
        type: "object",
        properties: {
          tag: { type: "string", default: "volunteer" },
          point_people: { type: "array", items: { type: "string", format: "uuid" } },
          messages: { type: "object", additionalProperties: { type: "string" } },
          default_language: { type: "string", default: "en" },
          channel: { enum: ["email", "sms", "whatsapp"], default: "email" },
          follow_up_days: { type: "integer", minimum: 0, default: 2 },
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
    /** @type {import("../../js/turnout").Effect[]} */
    const effects = [];

    if (config.tag !== "" && !person.tags.includes(config.tag)) {
      effects.push({ tag: "add-tag", val: { personId: person.id, tag: config.tag } });
    }

    const language = person.language.split(/[-_]/)[0].toLowerCase();
    const template = config.messages[language] ?? config.messages[config.default_language];
    const channel = reachableChannel(person, config.channel);
    if (template == null) {
      logging.log("warn", `no welcome text for ${person.language}`);
    } else if (channel == null) {
      logging.log("warn", `person ${person.id} has no e-mail or phone`);
    } else {
      const text = template.replaceAll("{first_name}", person.firstName);
      effects.push({
        tag: "send-message",
        val: { personId: person.id, channel, body: { tag: "text", val: text } },
      });
    }

    let pointPerson = person.pointPersonId;
    if (pointPerson == null && config.point_people.length > 0) {
      const stored = Number.parseInt(queries.kvGet(TURN_KEY) ?? "0", 10);
      const turn = (Number.isNaN(stored) ? 0 : stored) % config.point_people.length;
      pointPerson = config.point_people[turn];
      effects.push({
        tag: "assign-point-person",
        val: { personId: person.id, pointPersonId: pointPerson },
      });
      const next = (turn + 1) % config.point_people.length;
      effects.push({ tag: "kv-set", val: { key: TURN_KEY, value: String(next) } });
      logging.log("info", `point person ${pointPerson} (turn ${turn})`);
    }

    effects.push({
      tag: "create-task",
      val: {
        assigneeId: pointPerson,
        aboutPersonId: person.id,
        title: `Welcome call: ${fullName(person)}`,
        description: "Call the new volunteer, answer questions, invite them to a shift.",
        dueInSeconds: config.follow_up_days * 24 * 3600,
      },
    });
    return effects;
  },
});

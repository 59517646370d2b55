// Types of the Turnout automation contract (turnout:automation@0.1.0) as a JavaScript plugin
// sees it through componentize-qjs: records are objects with camelCase keys, enums are their
// case names as strings, variants are `{ tag, val }`, options are a value or `null`, and a
// function returning `result<T, E>` returns T or throws E. Every name here is the WIT's own
// (plugins/wit/automation@0.1.0/automation.wit documents each one); a test keeps the two in step.
//
// Use it from plain JavaScript with `// @ts-check` and JSDoc; turnout.js has `definePlugin`, e.g.
//   import { definePlugin } from "./turnout.js";
//   export const plugin = definePlugin({ describe() { … }, handle(event, config) { … } });

export type Id = string;
export type Timestamp = string;

export interface Event {
  id: Id;
  kind: string;
  subjectId: Id;
  occurredAt: Timestamp;
  /** A JSON object as text: `JSON.parse(event.payload)`. */
  payload: string;
  causationDepth: number;
}

export type Capability =
  | "read-people"
  | "read-attendance"
  | "read-shifts"
  | "read-kv"
  | "write-tags"
  | "write-custom-fields"
  | "write-ladder"
  | "assign-point-person"
  | "send-messages"
  | "create-tasks"
  | "rsvp-shifts"
  | "schedule-follow-ups"
  | "call-webhooks"
  | "write-kv";

export interface CustomField {
  key: string;
  value: string;
}

export interface Person {
  id: Id;
  firstName: string;
  lastName: string;
  email: string | null;
  phone: string | null;
  language: string;
  tags: string[];
  customFields: CustomField[];
  ladderStage: string | null;
  assessment: number | null;
  /** A user id (an organizer's login), not a person id. */
  pointPersonId: Id | null;
  referredBy: Id | null;
  createdAt: Timestamp;
}

export interface AttendanceSummary {
  personId: Id;
  attendedTotal: number;
  missedTotal: number;
  attendedInWindow: number;
  missedInWindow: number;
  lastAttendedAt: Timestamp | null;
}

export interface Shift {
  id: Id;
  eventId: Id;
  title: string;
  startsAt: Timestamp;
  endsAt: Timestamp;
  location: string | null;
  capacity: number | null;
  rsvpCount: number;
}

export interface PeopleQuery {
  tag: string | null;
  ladderStage: string | null;
  referredBy: Id | null;
  nameContains: string | null;
}

/** What a query throws. */
export type QueryError =
  | { tag: "not-granted"; val: Capability }
  | { tag: "invalid-argument"; val: string }
  | { tag: "too-many-queries" }
  | { tag: "unavailable"; val: string };

export type LogLevel = "debug" | "info" | "warn" | "error";
export type Channel = "email" | "sms" | "whatsapp";

export interface TemplateRef {
  name: string;
  language: string;
  /** A JSON object as text. */
  variables: string;
}

export type MessageBody = { tag: "template"; val: TemplateRef } | { tag: "text"; val: string };

export interface TagChange {
  personId: Id;
  tag: string;
}
export interface CustomFieldChange {
  personId: Id;
  key: string;
  value: string | null;
}
export interface LadderStageChange {
  personId: Id;
  stage: string;
}
export interface AssessmentChange {
  personId: Id;
  level: number;
}
export interface PointPersonChange {
  personId: Id;
  /** A user id. */
  pointPersonId: Id;
}
export interface Message {
  personId: Id;
  channel: Channel;
  body: MessageBody;
}
export interface Task {
  /** A user id, or null for the organization's task pool. */
  assigneeId: Id | null;
  aboutPersonId: Id | null;
  title: string;
  description: string;
  /** Seconds after the event. */
  dueInSeconds: number | null;
}
export interface ShiftRsvp {
  personId: Id;
  shiftId: Id;
}
export interface FollowUp {
  kind: string;
  subjectId: Id;
  delaySeconds: number;
  /** A JSON object as text. */
  payload: string;
}
export interface WebhookCall {
  webhook: string;
  /** JSON as text. */
  body: string;
}
export interface KvEntry {
  key: string;
  value: string | null;
}

export type Effect =
  | { tag: "add-tag"; val: TagChange }
  | { tag: "remove-tag"; val: TagChange }
  | { tag: "set-custom-field"; val: CustomFieldChange }
  | { tag: "set-ladder-stage"; val: LadderStageChange }
  | { tag: "set-assessment"; val: AssessmentChange }
  | { tag: "assign-point-person"; val: PointPersonChange }
  | { tag: "send-message"; val: Message }
  | { tag: "create-task"; val: Task }
  | { tag: "rsvp-shift"; val: ShiftRsvp }
  | { tag: "schedule-follow-up"; val: FollowUp }
  | { tag: "call-webhook"; val: WebhookCall }
  | { tag: "kv-set"; val: KvEntry };

/** What `handle` throws instead of returning effects. */
export type PluginError =
  | { tag: "invalid-config"; val: string }
  | { tag: "invalid-event"; val: string }
  | { tag: "failed"; val: string };

export interface PluginInfo {
  name: string;
  version: string;
  description: string;
  handles: string[];
  capabilities: Capability[];
  /** A JSON Schema as text: `JSON.stringify({...})`. */
  configSchema: string;
}

/** The module `turnout:automation/queries@0.1.0` (its default export). Each throws a QueryError. */
export interface Queries {
  getPerson(id: Id): Person | null;
  getAttendance(personId: Id, windowDays: number): AttendanceSummary;
  upcomingShifts(limit: number): Shift[];
  searchPeople(query: PeopleQuery, limit: number): Person[];
  kvGet(key: string): string | null;
}

/** The module `turnout:automation/logging@0.1.0` (its default export). */
export interface Logging {
  log(level: LogLevel, message: string): void;
}

/** What the plugin module exports as `plugin`. */
export interface Plugin {
  describe(): PluginInfo;
  /** `config` is the automation's configuration as JSON text. Throws a PluginError. */
  handle(event: Event, config: string): Effect[];
}

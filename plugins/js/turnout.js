// @ts-check
// Helpers for Turnout plugins in JavaScript (componentize-qjs). `definePlugin` wraps a plugin
// so that its `handle` gets the configuration parsed, and whatever it throws reaches the host
// as one of the contract's plugin errors: a refused query (a QueryError thrown by `queries`)
// or a JavaScript Error becomes `failed` with a sentence, where it would otherwise crash the
// run as a bad variant.

const PLUGIN_ERRORS = ["invalid-config", "invalid-event", "failed"];

/**
 * @param {unknown} thrown
 * @returns {import("./turnout").PluginError}
 */
export function pluginError(thrown) {
  // An import's error (a refused query) arrives as an Error whose `payload` is the WIT value.
  const raw = /** @type {any} */ (thrown);
  const e = raw instanceof Error && raw.payload !== undefined ? raw.payload : raw;
  if (e != null && typeof e === "object" && PLUGIN_ERRORS.includes(e.tag)) {
    return { tag: e.tag, val: String(e.val ?? "") };
  }
  if (e != null && typeof e === "object" && typeof e.tag === "string") {
    const detail = e.val === undefined ? "" : `: ${e.val}`;
    return {
      tag: "failed",
      val: `a query was refused (${e.tag}${detail}); the run's log says why`,
    };
  }
  if (e instanceof Error) {
    return { tag: "failed", val: `${e.name}: ${e.message}` };
  }
  return { tag: "failed", val: String(e) };
}

/**
 * @param {{ describe(): import("./turnout").PluginInfo,
 *           handle(event: import("./turnout").Event, config: any): import("./turnout").Effect[] }} plugin
 * @returns {import("./turnout").Plugin}
 */
export function definePlugin(plugin) {
  return {
    describe: () => plugin.describe(),
    handle(event, configText) {
      let config;
      try {
        config = JSON.parse(configText || "{}");
      } catch (e) {
        throw { tag: "invalid-config", val: `the configuration is not JSON: ${e}` };
      }
      try {
        return plugin.handle(event, config);
      } catch (e) {
        throw pluginError(e);
      }
    },
  };
}

/**
 * The channel to reach a person on: `preferred` if they can be reached there, else e-mail,
 * else SMS; `null` when they have neither an address nor a phone.
 * @param {import("./turnout").Person} person
 * @param {string} preferred
 * @returns {import("./turnout").Channel | null}
 */
export function reachableChannel(person, preferred) {
  /** @param {string} c */
  const reachable = (c) => (c === "email" ? person.email != null : person.phone != null);
  const found = [preferred, "email", "sms"].find(reachable);
  return found == null ? null : /** @type {import("./turnout").Channel} */ (found);
}

/**
 * "First Last", or the first name alone when there is no last name.
 * @param {import("./turnout").Person} person
 */
export function fullName(person) {
  return person.lastName === "" ? person.firstName : `${person.firstName} ${person.lastName}`;
}

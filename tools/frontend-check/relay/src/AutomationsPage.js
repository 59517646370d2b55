// Automations admin: the automations, their run log (paginated), enable/disable and replay.
// Automation and AutomationRun are not `Node`s, so only the Query-level run log can be
// refetched; the list itself is a plain list field.
import { graphql, useLazyLoadQuery, useMutation, usePaginationFragment } from 'react-relay';

const query = graphql`
  query AutomationsPageQuery($runFilter: AutomationRunFilter) {
    automations {
      id
      name
      pluginVersionId
      triggerKinds
      filter
      config
      grantedCapabilities
      enabled
      updatedAt
    }
    ...AutomationsPage_runs @arguments(filter: $runFilter)
  }
`;

const runs = graphql`
  fragment AutomationsPage_runs on Query
  @refetchable(queryName: "AutomationsPageRunsPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 50 }
    cursor: { type: "String" }
    filter: { type: "AutomationRunFilter" }
  ) {
    automationRuns(first: $count, after: $cursor, filter: $filter)
      @connection(key: "AutomationsPage_automationRuns", filters: ["filter"]) {
      edges {
        node {
          id
          automationId
          eventId
          status
          effects
          logs
          fuelUsed
          durationUs
          error
          attempts
          startedAt
          finishedAt
        }
      }
    }
  }
`;

const enable = graphql`
  mutation AutomationsPageEnableMutation($id: ID!) {
    enableAutomation(id: $id) {
      id
      enabled
    }
  }
`;

const disable = graphql`
  mutation AutomationsPageDisableMutation($id: ID!) {
    disableAutomation(id: $id) {
      id
      enabled
    }
  }
`;

const replay = graphql`
  mutation AutomationsPageReplayMutation($runId: ID!) {
    replayAutomationRun(runId: $runId) {
      id
      status
      error
      attempts
      finishedAt
    }
  }
`;

export default function AutomationsPage({ runFilter }) {
  const data = useLazyLoadQuery(query, { runFilter });
  const log = usePaginationFragment(runs, data);
  return { automations: data.automations, log, enable: useMutation(enable)[0], disable: useMutation(disable)[0], replay: useMutation(replay)[0] };
}

// Staff events list, upcoming first (a Relay connection on Query).
import { graphql, useLazyLoadQuery, usePaginationFragment } from 'react-relay';

const query = graphql`
  query EventsPageQuery($filter: EventsFilter) {
    ...EventsPage_query @arguments(filter: $filter)
  }
`;

const fragment = graphql`
  fragment EventsPage_query on Query
  @refetchable(queryName: "EventsPagePaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "String" }
    filter: { type: "EventsFilter" }
  ) {
    events(first: $count, after: $cursor, filter: $filter) @connection(key: "EventsPage_events", filters: ["filter"]) {
      edges {
        node {
          id
          title
          timeZone
          visibility
          status
          shifts {
            id
            startsAt
            seatsLeft
          }
        }
      }
    }
  }
`;

export default function EventsPage({ filter = { timing: 'UPCOMING' } }) {
  const ref = useLazyLoadQuery(query, { filter });
  return usePaginationFragment(fragment, ref);
}

// People list page: a paginated, filterable connection (Relay `@connection`).
import { graphql, useLazyLoadQuery, usePaginationFragment } from 'react-relay';
import PersonRow from './PersonRow';

const query = graphql`
  query PeoplePageQuery($filter: PeopleFilter, $sort: PeopleSort) {
    ...PeoplePage_query @arguments(filter: $filter, sort: $sort)
  }
`;

const fragment = graphql`
  fragment PeoplePage_query on Query
  @refetchable(queryName: "PeoplePagePaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 50 }
    cursor: { type: "String" }
    filter: { type: "PeopleFilter" }
    sort: { type: "PeopleSort", defaultValue: CREATED_AT_DESC }
  ) {
    people(first: $count, after: $cursor, filter: $filter, sort: $sort)
      @connection(key: "PeoplePage_people", filters: ["filter", "sort"]) {
      __id
      totalCount
      edges {
        cursor
        node {
          id
          ...PersonRow_person
        }
      }
    }
  }
`;

export default function PeoplePage({ filter, sort }) {
  const queryRef = useLazyLoadQuery(query, { filter, sort });
  const { data, loadNext, hasNext } = usePaginationFragment(fragment, queryRef);
  return { total: data.people.totalCount, rows: data.people.edges.map((e) => PersonRow({ person: e.node })), hasNext, loadNext };
}

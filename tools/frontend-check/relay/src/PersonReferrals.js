// People a person brought in, paginated on the Person node (`@refetchable` + `@connection`).
import { graphql, usePaginationFragment } from 'react-relay';

export default function PersonReferrals({ person }) {
  const { data, loadNext, hasNext } = usePaginationFragment(
    graphql`
      fragment PersonReferrals_person on Person
      @refetchable(queryName: "PersonReferralsPaginationQuery")
      @argumentDefinitions(count: { type: "Int", defaultValue: 10 }, cursor: { type: "String" }) {
        referralCount
        referrals(first: $count, after: $cursor) @connection(key: "PersonReferrals_referrals") {
          edges {
            node {
              id
              firstName
              lastName
              email
              createdAt
            }
          }
        }
      }
    `,
    person,
  );
  return { count: data.referralCount, people: data.referrals.edges.map((e) => e.node), hasNext, loadNext };
}

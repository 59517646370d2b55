// One row of the people list.
import { graphql, useFragment } from 'react-relay';

export default function PersonRow({ person }) {
  const p = useFragment(
    graphql`
      fragment PersonRow_person on Person {
        id
        firstName
        lastName
        email
        phone
        ladderStage
        tags {
          id
          name
        }
        smsConsent {
          granted
          source
        }
      }
    `,
    person,
  );
  return [p.firstName, p.lastName].filter(Boolean).join(' ') || p.email;
}

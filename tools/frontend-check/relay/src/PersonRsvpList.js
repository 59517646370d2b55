// A person's RSVPs with the shift and the event of each.
import { graphql, useFragment } from 'react-relay';

export default function PersonRsvpList({ person }) {
  const data = useFragment(
    graphql`
      fragment PersonRsvpList_person on Person {
        rsvps {
          id
          status
          checkedInAt
          createdAt
          shift {
            id
            startsAt
            endsAt
            cancelledAt
            event {
              id
              title
              timeZone
              location
              status
            }
          }
        }
      }
    `,
    person,
  );
  return data.rsvps;
}

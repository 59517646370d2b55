// A shift's roster with check-in and no-show buttons.
import { graphql, useFragment, useMutation } from 'react-relay';

const checkIn = graphql`
  mutation ShiftRosterCheckInMutation($id: ID!) {
    checkInRsvp(id: $id) {
      id
      status
      checkedInAt
    }
  }
`;

const noShow = graphql`
  mutation ShiftRosterNoShowMutation($id: ID!) {
    markRsvpNoShow(id: $id) {
      id
      status
    }
  }
`;

export default function ShiftRoster({ shift }) {
  const data = useFragment(
    graphql`
      fragment ShiftRoster_shift on Shift {
        id
        startsAt
        endsAt
        capacity
        seatsTaken
        seatsLeft
        cancelledAt
        rsvps {
          id
          status
          checkedInAt
          person {
            id
            firstName
            lastName
            phone
          }
        }
      }
    `,
    shift,
  );
  return { data, checkIn: useMutation(checkIn)[0], noShow: useMutation(noShow)[0] };
}

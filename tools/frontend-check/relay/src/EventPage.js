// Staff event page: the event and its shifts, each with its roster.
import { graphql, useFragment, useLazyLoadQuery } from 'react-relay';
import ShiftRoster from './ShiftRoster';

const query = graphql`
  query EventPageQuery($id: ID!) {
    event(id: $id) {
      ...EventPage_event
    }
  }
`;

export default function EventPage({ id }) {
  const data = useLazyLoadQuery(query, { id });
  const event = useFragment(
    graphql`
      fragment EventPage_event on Event @refetchable(queryName: "EventPageRefetchQuery") {
        id
        title
        description
        timeZone
        location
        virtualUrl
        visibility
        status
        reminderOffsetsMinutes
        shifts {
          id
          ...ShiftRoster_shift
        }
      }
    `,
    data.event,
  );
  return { event, shifts: event.shifts.map((s) => ShiftRoster({ shift: s })) };
}

// The live activity feed over graphql-ws, and a lookup of a feed item's subject by global ID.
import { graphql, requestSubscription, fetchQuery } from 'relay-runtime';

const subscription = graphql`
  subscription LiveFeedSubscription($kinds: [String!]) {
    domainEvents(kinds: $kinds) {
      id
      kind
      subjectType
      subjectId
      subjectNodeId
      payload
      occurredAt
      causationId
    }
  }
`;

const subjectQuery = graphql`
  query LiveFeedSubjectQuery($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Person {
        firstName
        lastName
        email
      }
      ... on Event {
        title
        eventStatus: status
      }
      ... on Shift {
        startsAt
        event {
          id
          title
        }
      }
      ... on Rsvp {
        rsvpStatus: status
        person {
          id
          firstName
        }
        shift {
          id
          startsAt
        }
      }
      ... on Tag {
        name
      }
      ... on Task {
        title
        taskStatus: status
      }
    }
  }
`;

export function subscribe(environment, kinds, onItem) {
  return requestSubscription(environment, {
    subscription,
    variables: { kinds },
    onNext: (data) => {
      const id = data.domainEvents.subjectNodeId;
      if (id) fetchQuery(environment, subjectQuery, { id }).subscribe({ next: (s) => onItem(data.domainEvents, s.node) });
    },
  });
}

// Tagging: one person, or everyone a filter selects.
import { graphql, useMutation } from 'react-relay';

const addTags = graphql`
  mutation PersonTagsAddMutation($personId: ID!, $tags: [String!]!) {
    addTags(personId: $personId, tags: $tags) {
      id
      tags {
        id
        name
      }
    }
  }
`;

const removeTags = graphql`
  mutation PersonTagsRemoveMutation($personId: ID!, $tags: [String!]!) {
    removeTags(personId: $personId, tags: $tags) {
      id
      tags {
        id
        name
      }
    }
  }
`;

const tagInBulk = graphql`
  mutation PersonTagsBulkMutation($filter: PeopleFilter!, $tags: [String!]!) {
    tagPeople(filter: $filter, tags: $tags) {
      count
    }
  }
`;

export function usePersonTags() {
  return { add: useMutation(addTags)[0], remove: useMutation(removeTags)[0], bulk: useMutation(tagInBulk)[0] };
}

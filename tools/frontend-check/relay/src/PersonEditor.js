// Staff: create a person (inserted at the top of the people list) or edit one.
import { graphql, useMutation } from 'react-relay';

const createMutation = graphql`
  mutation PersonEditorCreateMutation($input: PersonInput!, $connections: [ID!]!) {
    createPerson(input: $input) @prependNode(connections: $connections, edgeTypeName: "PersonEdge") {
      id
      ...PersonRow_person
    }
  }
`;

const updateMutation = graphql`
  mutation PersonEditorUpdateMutation($id: ID!, $input: PersonInput!) {
    updatePerson(id: $id, input: $input) {
      id
      updatedAt
      ...PersonDetailPage_person
    }
  }
`;

export function usePersonEditor() {
  const [create] = useMutation(createMutation);
  const [update] = useMutation(updateMutation);
  return { create, update };
}

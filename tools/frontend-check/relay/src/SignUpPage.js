// The public sign-up page (no credential): render the form, submit it.
import { graphql, useLazyLoadQuery, useMutation } from 'react-relay';

const query = graphql`
  query SignUpPageQuery($slug: String!) {
    form(slug: $slug) {
      id
      slug
      title
      consentText
      fields {
        key
        required
      }
    }
  }
`;

const mutation = graphql`
  mutation SignUpPageMutation($form: String!, $input: SignUpInput!) {
    signUp(form: $form, input: $input) {
      submissionId
      referralCode
    }
  }
`;

export default function SignUpPage({ slug }) {
  const { form } = useLazyLoadQuery(query, { slug });
  const [commit] = useMutation(mutation);
  return {
    form,
    submit: (input) => commit({ variables: { form: form.slug, input } }),
  };
}

// Person detail page: profile (refetchable through `node`), RSVPs, referrals.
import { graphql, useLazyLoadQuery, useRefetchableFragment } from 'react-relay';
import PersonRsvpList from './PersonRsvpList';
import PersonReferrals from './PersonReferrals';

const query = graphql`
  query PersonDetailPageQuery($id: ID!) {
    person(id: $id) {
      ...PersonDetailPage_person
      ...PersonRsvpList_person
      ...PersonReferrals_person
    }
  }
`;

const fragment = graphql`
  fragment PersonDetailPage_person on Person
  @refetchable(queryName: "PersonDetailPageRefetchQuery") {
    id
    firstName
    lastName
    email
    phone
    city
    zip
    preferredLanguage
    ladderStage
    assessment
    referralCode
    archivedAt
    utm {
      source
      campaign
    }
    smsConsent {
      granted
      grantedAt
      source
    }
    emailConsent {
      granted
    }
    tags {
      id
      name
    }
    customFields {
      key
      label
      type
      value
    }
    notes {
      id
      kind
      outcome
      body
      occurredAt
    }
    tasks {
      id
      title
      status
      dueAt
    }
  }
`;

export default function PersonDetailPage({ id }) {
  const data = useLazyLoadQuery(query, { id });
  const [person, refetch] = useRefetchableFragment(fragment, data.person);
  return { person, refetch, rsvps: PersonRsvpList({ person: data.person }), referrals: PersonReferrals({ person: data.person }) };
}

// Code shaped like the frontend's: it reads the generated operation types the way pages do.
// It is typechecked (never run) with `tsc --noEmit`, so a change that turns a non-null field
// nullable, renames an enum value the UI branches on, or changes a field's type breaks here
// even when the operations themselves still validate.
import type {
  AutomationRunsQuery,
  EventDetailQuery,
  LiveFeedSubscription,
  NodeByIdQuery,
  NodeByIdQueryVariables,
  PeopleListQuery,
  PeopleListQueryVariables,
  PersonDetailQuery,
  PersonListItemFragment,
  RsvpStatus,
  SignUpMutation,
  SignUpMutationVariables,
  UpdatePersonMutationVariables,
} from '../generated/operations';

export function displayName(p: PersonListItemFragment): string {
  const name = [p.firstName, p.lastName].filter((s): s is string => !!s).join(' ');
  return name || p.email || p.phone || p.id;
}

export interface PersonRow {
  id: string;
  name: string;
  tags: string[];
  textable: boolean;
  added: Date;
}

export function peopleRows(data: PeopleListQuery): { rows: PersonRow[]; total: number | null } {
  const rows = data.people.edges.map(({ node }) => ({
    id: node.id,
    name: displayName(node),
    tags: node.tags.map((t) => t.name),
    textable: node.smsConsent.granted && node.phone !== null,
    added: new Date(node.createdAt),
  }));
  return { rows, total: data.people.totalCount ?? null };
}

export function nextPage(
  data: PeopleListQuery,
  vars: PeopleListQueryVariables,
): PeopleListQueryVariables | null {
  const { hasNextPage, endCursor } = data.people.pageInfo;
  return hasNextPage && endCursor ? { ...vars, after: endCursor, withCount: false } : null;
}

export const volunteersInSpanish: PeopleListQueryVariables = {
  first: 50,
  filter: { tagsAny: ['volunteer'], languages: ['es'], smsConsent: true },
  sort: 'LAST_NAME_ASC',
};

const rsvpLabels: Partial<Record<RsvpStatus, string>> = {
  SIGNED_UP: 'Signed up',
  CONFIRMED: 'Confirmed',
  WAITLISTED: 'Waitlist',
  CANCELLED: 'Cancelled',
  ATTENDED: 'Attended',
  NO_SHOW: 'No-show',
};

export function rsvpTimeline(data: PersonDetailQuery): string[] {
  return data.person.rsvps.map((r) => {
    const when = new Date(r.shift.startsAt).toLocaleString('en-US', {
      timeZone: r.shift.event.timeZone,
    });
    return `${r.shift.event.title} — ${when} — ${rsvpLabels[r.status] ?? r.status}`;
  });
}

export function ladderSummary(data: PersonDetailQuery): string {
  const last = data.person.ladderHistory.at(-1);
  return last ? `${last.field}: ${last.from ?? '—'} → ${last.to ?? '—'}` : 'no changes';
}

export function rosterCounts(data: EventDetailQuery): { shiftId: string; coming: number; seatsLeft: number | null }[] {
  return data.event.shifts.map((s) => ({
    shiftId: s.id,
    coming: s.rsvps.filter((r) => r.status !== 'CANCELLED' && r.status !== 'WAITLISTED').length,
    seatsLeft: s.seatsLeft,
  }));
}

export function signUpVariables(form: string, email: string, ref: string | null): SignUpMutationVariables {
  return {
    form,
    input: {
      firstName: 'Ada',
      lastName: 'Lovelace',
      email,
      phone: '(202) 555-0143',
      smsConsent: true,
      referralCode: ref,
      utm: { source: 'tiktok', campaign: 'launch' },
    },
  };
}

export function shareLink(result: SignUpMutation, origin: string): string {
  return `${origin}/join?ref=${encodeURIComponent(result.signUp.referralCode)}`;
}

export const clearZip: UpdatePersonMutationVariables = { id: 'UGVyc29uOjE=', input: { zip: null } };

export function failedRuns(data: AutomationRunsQuery): { id: string; error: string }[] {
  return data.automationRuns.edges
    .filter(({ node }) => node.status === 'FAILED')
    .map(({ node }) => ({ id: node.id, error: node.error ?? 'unknown error' }));
}

export function subjectLookup(ev: LiveFeedSubscription): NodeByIdQueryVariables | null {
  const id = ev.domainEvents.subjectNodeId;
  return id === null ? null : { id };
}

export function describeNode(data: NodeByIdQuery): string {
  const n = data.node;
  // `node` is nullable (Relay's spec): an id that names nothing visible is null.
  if (n === null) return 'not found';
  switch (n.__typename) {
    case 'Person':
      return n.email ?? n.id;
    case 'Event':
      return `${n.title} (${n.eventStatus})`;
    case 'Shift':
      return `${n.event.title} at ${n.startsAt}`;
    case 'Rsvp':
      return `${n.person.firstName ?? 'someone'}: ${n.rsvpStatus}`;
    case 'Tag':
      return n.name;
    case 'Form':
      return n.title;
    case 'Task':
      return `${n.title} (${n.taskStatus})`;
    case 'Note':
      return `${n.kind}: ${n.body}`;
    default:
      return `${n.__typename} ${n.id}`;
  }
}

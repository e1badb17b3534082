// HTTP client for the community support network under /api/v1/community.
// Failures are ApiErrors, as in api.js.

import { apiUrl, postFile, request, requestText } from './api.js';

const id = encodeURIComponent;

/** Asks for an application link by email, without a session; returns `{ state: "check_email" }`. */
export function requestApplicationEmail(email) {
  return request('POST', '/community/applications', { email });
}

/**
 * Creates a community-only account from an application link and signs it
 * in. `application` is `{ token, password, display_name, partner_id?,
 * membership_number? }`. Returns the membership.
 */
export function confirmApplication(application) {
  return request('POST', '/community/applications/confirm', application);
}

/** Returns the partners an applicant may name, `[{ id, name }]`, without a session. */
export function fetchPartners() {
  return request('GET', '/community/partners');
}

/** Returns my membership; `state` is `none`, `applied`, `active` or `rejected`. */
export function fetchMembership() {
  return request('GET', '/community/membership');
}

/** Applies with my account: `{ display_name, partner_id?, membership_number? }`. */
export function applyForMembership(application) {
  return request('POST', '/community/membership', application);
}

/** Returns `{ version }` of the current acceptable-use rules. */
export function fetchRules() {
  return request('GET', '/community/rules');
}

export function acceptRules(version) {
  return request('POST', '/community/membership/rules', { version });
}

/** Returns the applications I may decide, oldest first, for moderators. */
export function fetchApplications() {
  return request('GET', '/community/applications');
}

/** Records `verify` or `reject` on an application; `reason` is required to reject. */
export function decideApplication(userId, decision, reason = null) {
  const body = reason ? { decision, reason } : { decision };
  return request('POST', `/community/applications/${id(userId)}/decision`, body);
}

/**
 * Replaces a partner's membership list with `csv`, whose first line is
 * `membership_number,email`. Returns `{ entries, verified }`.
 */
export function uploadMembershipList(partnerId, csv) {
  const path = `/community/partners/${id(partnerId)}/membership-list`;
  return requestText('PUT', path, csv, 'text/csv');
}

export function fetchMyProfile() {
  return request('GET', '/community/profile');
}

/**
 * Replaces my profile: `{ display_name, family_makeup, legal_status,
 * interests, picture }`, each field but the name `{ value, visible }`.
 * The picture's value is an image id or null, and a profile sent without
 * it has no picture.
 */
export function saveMyProfile(profile) {
  return request('PUT', '/community/profile', profile);
}

/** Removes every field of my profile and deletes my picture; the display name stays. */
export function deleteMyProfile() {
  return request('DELETE', '/community/profile');
}

/** Returns another member's profile with only the fields they show to members. */
export function fetchMember(userId) {
  return request('GET', `/community/members/${id(userId)}`);
}

/** Warns, suspends (`days`) or lifts a suspension of a member, for moderators. */
export function moderateMember(userId, action, reason, days = null) {
  const body = days === null ? { action, reason } : { action, reason, days };
  return request('POST', `/community/members/${id(userId)}/moderation`, body);
}

export function fetchGroups() {
  return request('GET', '/community/groups');
}

/** Joins an open group or requests to join one by approval, and returns `{ membership }`. */
export function joinGroup(groupId) {
  return request('POST', `/community/groups/${id(groupId)}/join`);
}

export function leaveGroup(groupId) {
  return request('DELETE', `/community/groups/${id(groupId)}/membership`);
}

/** Returns the requests to join a group by approval, for moderators. */
export function fetchJoinRequests(groupId) {
  return request('GET', `/community/groups/${id(groupId)}/requests`);
}

/** Records `approve` or `decline` on a request to join a group. */
export function decideJoinRequest(groupId, userId, decision) {
  return request('POST', `/community/groups/${id(groupId)}/requests/${id(userId)}`, { decision });
}

/** Maximum topics in one page of a group's listing, as the server lists them. */
export const TOPICS_PAGE_SIZE = 200;

/**
 * Returns up to TOPICS_PAGE_SIZE of a group's topics, newest activity
 * first, from the `offset`th. A full page means that more may follow.
 */
export function fetchTopics(groupId, offset = 0) {
  return request('GET', `/community/groups/${id(groupId)}/topics?offset=${offset}`);
}

/** Opens a topic whose first post shows `images`, `[{ id, description }]` of my ready images. */
export function startTopic(groupId, title, body, images = []) {
  return request('POST', `/community/groups/${id(groupId)}/topics`, { title, body, images });
}

/**
 * Returns `{ id, group_id, title, posts, more_posts }` with up to 1,000
 * posts, oldest first, from the `offset`th. The opening post is the 0th,
 * and `more_posts` is true when more posts may follow.
 */
export function fetchTopic(topicId, offset = 0) {
  return request('GET', `/community/topics/${id(topicId)}?offset=${offset}`);
}

/** Replies with `body` and `images`, as startTopic takes them. */
export function replyToTopic(topicId, body, images = []) {
  return request('POST', `/community/topics/${id(topicId)}/posts`, { body, images });
}

export function reportPost(postId, reason) {
  return request('POST', `/community/posts/${id(postId)}/reports`, { reason });
}

/** Returns the open reports, oldest first, for moderators. */
export function fetchReports() {
  return request('GET', '/community/reports');
}

/** Hides, removes or restores a post with the moderator's reason, and returns the post. */
export function moderatePost(postId, action, reason) {
  return request('POST', `/community/posts/${id(postId)}/moderation`, { action, reason });
}

/** Returns my warnings, suspensions and notices about my posts, newest first. */
export function fetchNotices() {
  return request('GET', '/community/notices');
}

/**
 * Appeals a notice with `text`, the member's reasons, and returns the
 * notice with its appeal. A notice may be appealed once.
 */
export function appealNotice(noticeId, text) {
  return request('POST', `/community/notices/${id(noticeId)}/appeal`, { text });
}

/** Returns the unanswered appeals, oldest first, as `[{ member, notice }]`, for moderators. */
export function fetchAppeals() {
  return request('GET', '/community/appeals');
}

/** Records `uphold` or `overturn` on the appeal of a notice, and returns the notice. */
export function decideAppeal(noticeId, decision, reason) {
  return request('POST', `/community/notices/${id(noticeId)}/appeal/decision`, {
    decision,
    reason,
  });
}

/**
 * Returns up to 50 visible posts of the groups I may read that contain
 * every word of `query`, best matches first.
 */
export function searchCommunity(query) {
  return request('GET', `/community/search?q=${id(query)}`);
}

/**
 * Creates a group, for moderators, from `{ name, description, join }`,
 * where `join` is `open` or `approval`. Returns the group.
 */
export function createGroup(group) {
  return request('POST', '/community/groups', group);
}

/**
 * Uploads `file` (a Blob) as an image for a post or my picture, and
 * returns its view, whose status is `processing`. `options` are those of
 * postFile in api.js: `onProgress` and `signal`.
 */
export function uploadImage(file, options = {}) {
  return postFile('/community/images', file, options);
}

/** Returns an image's view: `{ id, status, failure?, description?, renditions, created_at }`. */
export function fetchImage(imageId) {
  return request('GET', `/community/images/${id(imageId)}`);
}

/** Deletes one of my images that no post shows; my picture goes from my profile with it. */
export function deleteImage(imageId) {
  return request('DELETE', `/community/images/${id(imageId)}`);
}

/** Returns the address of a ready image's `main` rendition (the whole picture) or `thumbnail`. */
export function imageUrl(imageId, role) {
  return apiUrl(`/community/images/${id(imageId)}/${id(role)}`);
}

/** Returns the organisations a moderator may pass a post to, `[{ id, name, kind }]`. */
export function fetchConcernOrganisations() {
  return request('GET', '/community/concern-organisations');
}

/**
 * Passes a post to an organisation as a safeguarding concern, for
 * moderators. `concern` is `{ organisation_id, reason, tell_member,
 * not_told_because? }`, the last required when the member is not told.
 * Returns the concern.
 */
export function raiseConcern(postId, concern) {
  return request('POST', `/community/posts/${id(postId)}/concerns`, concern);
}

/** Returns the safeguarding concerns passed to an organisation, newest first, for its managers. */
export function fetchOrganisationConcerns(organisationId) {
  return request('GET', `/organisations/${id(organisationId)}/community-concerns`);
}

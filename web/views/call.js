// The Video call area of a conversation view. Staff start a supervised
// call; every member joins the call that is live, after a set-up step
// with a preview of their camera. A family member waits in the lobby until
// the host lets them in. In the call, each participant has a tile, I can
// turn my microphone and camera off, and the host (the practitioner who
// started the call) admits, pauses, mutes and removes participants and
// ends the call for everyone. State changes are announced through a live
// region, and leaving the page leaves the call.

import { CallClient, LocalMedia } from '../calls.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { errorText, t } from '../i18n.js';
import { alertRegion } from './common.js';
import { setupPanel } from './call-setup.js';
import { ParticipantTile, confirmedAction, lobbyEntry } from './call-tiles.js';

/** Roles that may start a call in a conversation they belong to. */
const STARTER_ROLES = new Set(['practitioner', 'manager']);
const END_REASONS = new Set([
  'ended_by_host',
  'host_left',
  'time_limit',
  'link_suspended',
  'link_ended',
  'server_restart',
  'gone',
]);

function nameOf(summary, userId) {
  const member = (summary.members ?? []).find((each) => each.user_id === userId);
  return member?.display_name ?? t('call.former_member');
}

/** Returns the catalogue keys of the badges of another participant's tile. */
function otherBadges(call, participant, linkState) {
  const badges = [];
  if (participant.user_id === call.host_id) badges.push('call.badge.host');
  if (participant.state === 'paused') badges.push('call.badge.paused');
  if (participant.audio_muted) badges.push('call.badge.muted');
  if (participant.video_muted) badges.push('call.badge.camera_off');
  if (!participant.connected || linkState === 'lost' || linkState === 'failed') {
    badges.push('call.badge.lost');
  } else if (participant.state === 'in_call' && linkState !== 'connected') {
    badges.push('call.badge.connecting');
  }
  return badges;
}

/** Returns the catalogue keys of the badges of my own tile. */
function myBadges(client, media) {
  const me = client.me;
  const badges = [];
  if (me?.user_id === client.call?.host_id) badges.push('call.badge.host');
  if (me?.state === 'paused') badges.push('call.badge.paused');
  if (me?.audio_muted) badges.push('call.badge.muted_by_host');
  else if (!media.track('audio') || !media.enabled.audio) badges.push('call.badge.microphone_off');
  if (me?.video_muted) badges.push('call.badge.camera_off_by_host');
  else if (!media.track('video') || !media.enabled.video) badges.push('call.badge.camera_off');
  if (!client.online) badges.push('call.badge.lost');
  return badges;
}

/** Returns the sentences announcing what changed between two `call` frames. */
function changes(before, after, myUserId, nameFor, host) {
  const sentences = [];
  const earlier = new Map((before?.participants ?? []).map((each) => [each.user_id, each]));
  for (const participant of after.participants ?? []) {
    const old = earlier.get(participant.user_id);
    const mine = participant.user_id === myUserId;
    if (mine) {
      if (old?.audio_muted !== undefined && old.audio_muted !== participant.audio_muted) {
        sentences.push(
          t(participant.audio_muted ? 'call.said.you_muted' : 'call.said.you_unmuted'),
        );
      }
      if (old?.video_muted !== undefined && old.video_muted !== participant.video_muted) {
        sentences.push(
          t(participant.video_muted ? 'call.said.you_camera_off' : 'call.said.you_camera_on'),
        );
      }
      continue;
    }
    if (old?.state === participant.state) continue;
    const name = nameFor(participant.user_id);
    const key = {
      lobby: host ? 'call.said.waiting' : null,
      in_call: old?.state === 'paused' ? 'call.said.resumed' : 'call.said.joined',
      paused: 'call.said.paused',
      left: old ? 'call.said.left' : null,
      removed: 'call.said.removed',
    }[participant.state];
    if (key) sentences.push(t(key, { name }));
  }
  return sentences;
}

/**
 * Creates the Video call area of the conversation `state`. Returns
 * `{ element, dispose }`.
 */
export function callArea(ctx, state) {
  const media = new LocalMedia();
  const client = new CallClient(ctx.chat, state.id, ctx.user.id, media);
  const mayStart = (ctx.user.roles ?? []).some((role) => STARTER_ROLES.has(role));
  const nameFor = (userId) => nameOf(state.summary, userId);
  /** 'start' or 'join' while the set-up step shows, otherwise null. */
  let setupMode = null;
  let lastCall = client.call;
  let lastPhase = client.phase;
  /** Where focus goes after the next render, after a step I took. */
  let focusAfterRender = null;

  const heading = h('h2', { id: 'call-heading', text: t('call.title'), attrs: { tabindex: '-1' } });
  // Announces state changes to screen readers. The same facts show on screen too.
  const announcer = h('p', { class: 'visually-hidden', attrs: { role: 'status' } });
  const alert = alertRegion();
  const endingSoon = h('p', { class: 'callout callout--warning', hidden: true });
  const outcome = h('p', { class: 'callout', hidden: true });

  const idleText = h('p', {});
  const startButton = h('button', { type: 'button', class: 'button', text: t('call.start') });
  const joinButton = h('button', { type: 'button', class: 'button', text: t('call.join') });
  const idle = h(
    'div',
    { class: 'call__idle' },
    idleText,
    h('div', { class: 'actions' }, startButton, joinButton),
  );

  const setup = setupPanel(media, {
    onReady: () => {
      const mode = setupMode;
      setupMode = null;
      if (mode === 'join' && !client.mayJoin) {
        // The call ended while the set-up step showed.
        media.close();
        alert.textContent = errorText('call.unknown');
        focusAfterRender = 'idle';
        render();
        return;
      }
      focusAfterRender = 'room';
      if (mode === 'start') client.start();
      else client.join();
      render();
    },
    onCancel: () => {
      setupMode = null;
      media.close();
      focusAfterRender = 'idle';
      render();
    },
    onDevicesChanged: () => {
      setup.update();
      client.updateLocalTracks();
      render();
    },
  });

  const roomStatus = h('p', {
    id: 'call-room-status',
    class: 'call__state',
    attrs: { tabindex: '-1' },
  });
  const roomHint = h('p', { class: 'call__state-hint' });
  const roomNotice = h('div', { class: 'callout', hidden: true }, roomStatus, roomHint);
  const grid = h('ul', {
    class: 'call-grid',
    attrs: { 'aria-label': t('call.participants_label') },
  });
  const microphoneToggle = h('button', { type: 'button', class: 'button button--secondary' });
  const cameraToggle = h('button', { type: 'button', class: 'button button--secondary' });
  const leaveButton = h('button', {
    type: 'button',
    class: 'button button--danger',
    text: t('call.leave'),
  });
  const endAction = confirmedAction({
    id: 'call-end',
    label: t('call.end'),
    context: '',
    title: t('call.end_confirm_title'),
    body: t('call.end_confirm_body'),
    confirmLabel: t('call.end_confirm'),
    onConfirm: () => client.end(),
  });
  const endHint = h('p', { class: 'field__hint', text: t('call.end_hint') });
  const endBlock = h('div', { class: 'call__end' }, endHint, endAction.element);
  const controls = h(
    'div',
    {
      class: 'actions call__controls',
      attrs: { role: 'group', 'aria-label': t('call.my_controls') },
    },
    microphoneToggle,
    cameraToggle,
    leaveButton,
  );
  const lobbyList = h('ul', {
    class: 'call-lobby__list',
    attrs: { 'aria-labelledby': 'call-lobby-heading' },
  });
  const lobbyEmpty = h('p', { class: 'empty', text: t('call.lobby_empty') });
  const lobby = h(
    'section',
    { class: 'call-lobby', attrs: { 'aria-labelledby': 'call-lobby-heading' } },
    h('h3', { id: 'call-lobby-heading', text: t('call.lobby_title') }),
    lobbyList,
    lobbyEmpty,
  );
  const room = h('div', { class: 'call__room' }, roomNotice, grid, controls, endBlock, lobby);

  const element = h(
    'section',
    { class: 'call', attrs: { 'aria-labelledby': 'call-heading' } },
    heading,
    announcer,
    alert,
    endingSoon,
    outcome,
    idle,
    setup.element,
    room,
  );

  const hostActions = {
    admit: (userId) => client.admit(userId),
    pause: (userId) => client.pause(userId),
    mute: (userId, kind, muted) => client.mute(userId, kind, muted),
    remove: (userId) => client.remove(userId),
  };
  /** Tiles on screen, by user id. */
  const tiles = new Map();
  /** Lobby entries on screen, by user id. */
  const lobbyEntries = new Map();

  function announce(text) {
    if (!text) return;
    // The same sentence again is still read out when it differs by a space.
    announcer.textContent = announcer.textContent === text ? `${text}\u00a0` : text;
  }

  function openSetup(mode) {
    alert.textContent = '';
    outcome.hidden = true;
    setupMode = mode;
    focusAfterRender = 'setup';
    render();
    setup.show(mode);
  }

  startButton.addEventListener('click', () => openSetup('start'));
  joinButton.addEventListener('click', () => openSetup('join'));
  leaveButton.addEventListener('click', () => {
    focusAfterRender = 'idle';
    client.leave();
    announce(t('call.left'));
  });
  microphoneToggle.addEventListener('click', () => {
    media.setEnabled('audio', !media.enabled.audio);
    render();
  });
  cameraToggle.addEventListener('click', () => {
    media.setEnabled('video', !media.enabled.video);
    render();
  });

  function renderIdle() {
    const joinable = client.mayJoin;
    startButton.hidden = joinable || !mayStart;
    joinButton.hidden = !joinable;
    if (joinable) idleText.textContent = t('call.live');
    else idleText.textContent = t(mayStart ? 'call.intro_staff' : 'call.none');
  }

  function renderOutcome() {
    const text = outcomeText();
    outcome.textContent = text ?? '';
    // The outcome of my last call gives way to a new call.
    const newCall = client.live && client.call.call_id !== client.joinedCallId;
    outcome.hidden = !text || setupMode !== null || newCall;
  }

  function renderEndingSoon() {
    const call = client.call;
    const soon = client.live && call.ending_soon;
    endingSoon.hidden = !soon;
    if (soon) endingSoon.textContent = t('call.ending_soon', { time: formatTime(call.ends_at) });
  }

  function renderRoomNotice() {
    const me = client.me;
    let status = null;
    let hint = '';
    if (!client.online) {
      status = t('call.reconnecting');
    } else if (client.phase === 'joining') {
      status = t('call.joining');
    } else if (me?.state === 'lobby') {
      status = t('call.lobby');
      hint = t('call.lobby_hint');
    } else if (me?.state === 'paused') {
      status = t('call.paused');
      hint = t('call.paused_hint');
    }
    roomNotice.hidden = !status;
    roomStatus.textContent = status ?? '';
    roomHint.textContent = hint;
    roomHint.hidden = !hint;
  }

  // Tiles: mine while I am in the call or its lobby, and the others' once
  // I am in the call. Each tile is kept while its participant stays, so a
  // playing video keeps playing and focus stays on its controls.
  function renderTiles() {
    const call = client.call;
    const me = client.me;
    const inRoom = client.phase === 'joined' && me;
    const shown = [];
    if (inRoom) shown.push(me);
    if (inRoom && me.state !== 'lobby') {
      for (const participant of call.participants ?? []) {
        const present = participant.state === 'in_call' || participant.state === 'paused';
        if (participant.user_id !== me.user_id && present) shown.push(participant);
      }
    }
    const shownIds = new Set(shown.map((participant) => participant.user_id));
    for (const [userId, tile] of tiles) {
      if (!shownIds.has(userId)) {
        tile.element.remove();
        tiles.delete(userId);
      }
    }
    let previous = null;
    for (const participant of shown) {
      const userId = participant.user_id;
      const mine = userId === client.userId;
      let tile = tiles.get(userId);
      if (!tile) {
        const name = mine ? t('call.you', { name: nameFor(userId) }) : nameFor(userId);
        const actions = client.isHost && !mine ? hostActions : null;
        tile = new ParticipantTile(userId, name, { mine, actions });
        tiles.set(userId, tile);
      }
      tile.update({
        stream: mine ? media.stream : client.remoteStream(userId),
        badges: mine
          ? myBadges(client, media)
          : otherBadges(call, participant, client.linkState(userId)),
        participant,
      });
      const expectedPlace = previous ? previous.nextSibling : grid.firstChild;
      if (tile.element !== expectedPlace) grid.insertBefore(tile.element, expectedPlace);
      previous = tile.element;
    }
    grid.hidden = shown.length === 0;
  }

  function renderLobby() {
    const call = client.call;
    const host = client.isHost && client.live;
    lobby.hidden = !host;
    const waiting = host
      ? (call.participants ?? []).filter((participant) => participant.state === 'lobby')
      : [];
    const waitingIds = new Set(waiting.map((participant) => participant.user_id));
    for (const [userId, entry] of lobbyEntries) {
      if (!waitingIds.has(userId)) {
        entry.remove();
        lobbyEntries.delete(userId);
      }
    }
    for (const participant of waiting) {
      if (lobbyEntries.has(participant.user_id)) continue;
      const entry = lobbyEntry(participant.user_id, nameFor(participant.user_id), hostActions);
      lobbyEntries.set(participant.user_id, entry);
      lobbyList.append(entry);
    }
    lobbyList.hidden = waiting.length === 0;
    lobbyEmpty.hidden = waiting.length > 0;
  }

  function renderControls() {
    const joined = client.phase === 'joined' && client.me;
    const hasAudio = Boolean(media.track('audio'));
    const hasVideo = Boolean(media.track('video'));
    microphoneToggle.hidden = !joined || !hasAudio;
    cameraToggle.hidden = !joined || !hasVideo;
    microphoneToggle.textContent = t(
      media.enabled.audio ? 'call.microphone_off' : 'call.microphone_on',
    );
    cameraToggle.textContent = t(media.enabled.video ? 'call.camera_off' : 'call.camera_on');
    // The host cannot leave without ending the call, so the host ends it instead.
    leaveButton.hidden = client.isHost;
    endBlock.hidden = !client.isHost;
  }

  function render() {
    const focused = element.contains(document.activeElement) ? document.activeElement : null;
    const inRoom = client.phase === 'joining' || client.phase === 'joined';
    if (inRoom) setupMode = null;
    idle.hidden = inRoom || setupMode !== null;
    setup.element.hidden = inRoom || setupMode === null;
    room.hidden = !inRoom;
    renderIdle();
    renderOutcome();
    renderEndingSoon();
    renderRoomNotice();
    renderTiles();
    renderLobby();
    renderControls();

    const target = {
      setup: setup.heading,
      idle: startButton.hidden ? joinButton : startButton,
      room: roomNotice.hidden ? heading : roomStatus,
    }[focusAfterRender];
    focusAfterRender = null;
    if (target && !target.hidden) focusElement(target);
    else if (focused && (!focused.isConnected || focused.getClientRects().length === 0)) {
      // The control that had focus went away, such as Admit once admitted.
      focusElement(heading);
    }
  }

  function outcomeText() {
    if (client.phase === 'removed') return t('call.removed');
    if (client.phase !== 'ended') return null;
    const reason = END_REASONS.has(client.endReason) ? client.endReason : 'gone';
    return `${t('call.ended')} ${t(`call.ended.${reason}`)}`;
  }

  // Announces what changed since the last change event, then renders.
  function onChange() {
    const call = client.call;
    const phase = client.phase;
    const me = client.me;
    const sentences = [];
    if (phase !== lastPhase && (phase === 'ended' || phase === 'removed')) {
      sentences.push(outcomeText());
    }
    const lastMe = lastCall?.participants?.find((each) => each.user_id === client.userId);
    if (phase === 'joined' && me && (me.state !== lastMe?.state || lastPhase !== 'joined')) {
      if (me.state === 'lobby') sentences.push(t('call.lobby'));
      else if (me.state === 'paused') sentences.push(t('call.paused'));
      else if (me.state === 'in_call') sentences.push(t('call.said.you_in'));
    }
    if (call && call !== lastCall && phase === 'joined') {
      sentences.push(...changes(lastCall, call, client.userId, nameFor, client.isHost));
    }
    if (call?.ending_soon && !lastCall?.ending_soon && client.live) {
      sentences.push(t('call.ending_soon', { time: formatTime(call.ends_at) }));
    }
    announce(sentences.join(' '));
    // The camera and microphone stay open only while I am in the call.
    if (phase !== lastPhase && !['joining', 'joined'].includes(phase)) media.close();
    lastCall = call;
    lastPhase = phase;
    render();
  }

  const onFailure = (event) => {
    alert.textContent = errorText(event.detail.code);
  };
  const onMediaChange = () => {
    if (setupMode) setup.update();
    render();
  };
  client.addEventListener('change', onChange);
  client.addEventListener('failure', onFailure);
  media.addEventListener('change', onMediaChange);
  render();

  return {
    element,
    dispose() {
      client.removeEventListener('change', onChange);
      client.removeEventListener('failure', onFailure);
      media.removeEventListener('change', onMediaChange);
      client.dispose();
      media.close();
    },
  };
}

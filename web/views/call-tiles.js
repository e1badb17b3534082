// The pieces of a call on screen: a participant's tile (video, name and
// state badges, and for the host the controls over that participant), an
// entry of the host's lobby list, and the confirmation shown before a
// lasting step such as removing someone or ending the call.

import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';

/**
 * Creates a button whose accessible name ends with `context` (such as the
 * participant's name in brackets), hidden on screen. Returns
 * `{ button, setLabel(label) }`.
 */
export function contextButton(className, label, context, onClick) {
  const visible = h('span', { text: label });
  const button = h(
    'button',
    { type: 'button', class: className, on: { click: onClick } },
    visible,
    context ? h('span', { class: 'visually-hidden', text: ` ${context}` }) : null,
  );
  return {
    button,
    setLabel(text) {
      if (visible.textContent !== text) visible.textContent = text;
    },
  };
}

/**
 * Creates a button that opens a confirmation in its place, with
 * `confirmLabel` and Cancel. `onConfirm()` runs on confirming. Returns
 * `{ element, close() }`.
 */
export function confirmedAction({ id, label, context, title, body, confirmLabel, onConfirm }) {
  const heading = h('p', {
    id: `${id}-title`,
    class: 'callout__title',
    text: title,
    attrs: { tabindex: '-1' },
  });
  const open = contextButton('button button--danger', label, context, () => {
    open.button.hidden = true;
    confirmation.hidden = false;
    focusElement(heading);
  });
  const close = () => {
    confirmation.hidden = true;
    open.button.hidden = false;
  };
  const confirmButton = h('button', {
    type: 'button',
    class: 'button button--danger',
    text: confirmLabel,
    on: {
      click: () => {
        close();
        onConfirm();
      },
    },
  });
  const cancelButton = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('call.cancel'),
    on: {
      click: () => {
        close();
        focusElement(open.button);
      },
    },
  });
  const confirmation = h(
    'div',
    {
      class: 'callout callout--important call__confirm',
      hidden: true,
      attrs: { role: 'group', 'aria-labelledby': heading.id },
    },
    heading,
    h('p', { text: body }),
    h('div', { class: 'actions' }, confirmButton, cancelButton),
  );
  const element = h('div', { class: 'call__confirmed-action' }, open.button, confirmation);
  return { element, close };
}

/** The host's controls over one participant, kept between updates so focus stays on them. */
class HostControls {
  constructor(userId, name, actions) {
    const context = t('call.control_context', { name });
    this.participant = null;
    this.stateButton = contextButton('button button--secondary', '', context, () => {
      if (this.participant?.state === 'paused') actions.admit(userId);
      else actions.pause(userId);
    });
    this.microphoneButton = contextButton('button button--secondary', '', context, () =>
      actions.mute(userId, 'audio', !this.participant?.audio_muted),
    );
    this.cameraButton = contextButton('button button--secondary', '', context, () =>
      actions.mute(userId, 'video', !this.participant?.video_muted),
    );
    this.remove = confirmedAction({
      id: `call-remove-${userId}`,
      label: t('call.remove'),
      context,
      title: t('call.remove_confirm_title', { name }),
      body: t('call.remove_confirm_body', { name }),
      confirmLabel: t('call.remove_confirm'),
      onConfirm: () => actions.remove(userId),
    });
    this.element = h(
      'div',
      { class: 'call-tile__controls' },
      this.stateButton.button,
      this.microphoneButton.button,
      this.cameraButton.button,
      this.remove.element,
    );
  }

  update(participant) {
    this.participant = participant;
    const paused = participant.state === 'paused';
    this.stateButton.setLabel(t(paused ? 'call.admit' : 'call.pause'));
    this.microphoneButton.setLabel(
      t(participant.audio_muted ? 'call.unmute_participant' : 'call.mute_participant'),
    );
    this.cameraButton.setLabel(
      t(participant.video_muted ? 'call.camera_on_participant' : 'call.camera_off_participant'),
    );
  }
}

/**
 * The tile of one participant. `actions` (admit, pause, mute, remove) are
 * given for the host's tiles of the others, and add the controls.
 */
export class ParticipantTile {
  constructor(userId, name, { mine = false, actions = null } = {}) {
    this.userId = userId;
    // My own sound would echo, so my tile plays no sound.
    this.video = h('video', { class: 'call-tile__video', muted: mine, playsInline: true });
    this.placeholder = h('p', { class: 'call-tile__placeholder', text: t('call.no_picture') });
    this.name = h('p', { class: 'call-tile__name', text: name });
    this.badges = h('p', { class: 'call-tile__badges' });
    this.controls = actions ? new HostControls(userId, name, actions) : null;
    this.element = h(
      'li',
      { class: 'call-tile', dataset: { userId } },
      h('div', { class: 'call-tile__media' }, this.video, this.placeholder),
      this.name,
      this.badges,
      this.controls?.element,
    );
  }

  /**
   * Shows `stream` and the badges, given as catalogue keys. `participant`
   * is the entry of the `call` frame, for the host's controls.
   */
  update({ stream, badges, participant }) {
    if (this.video.srcObject !== stream) {
      this.video.srcObject = stream;
      // Playing is started by script rather than the autoplay attribute,
      // which would play sound before anyone chose to.
      if (stream) this.video.play().catch(() => {});
    }
    const picture = stream?.getVideoTracks().some((track) => track.readyState === 'live');
    this.video.hidden = !picture;
    this.placeholder.hidden = Boolean(picture);
    const texts = badges.map((key) => t(key));
    const shown = [...this.badges.children].map((badge) => badge.textContent);
    if (shown.join('\n') !== texts.join('\n')) {
      this.badges.replaceChildren(...texts.map((text) => h('span', { class: 'badge', text })));
    }
    this.badges.hidden = texts.length === 0;
    if (this.controls && participant) this.controls.update(participant);
  }
}

/** Creates an entry of the host's list of participants waiting in the lobby. */
export function lobbyEntry(userId, name, actions) {
  const context = t('call.control_context', { name });
  const admit = contextButton('button', t('call.admit'), context, () => actions.admit(userId));
  const remove = confirmedAction({
    id: `call-lobby-remove-${userId}`,
    label: t('call.remove'),
    context,
    title: t('call.remove_confirm_title', { name }),
    body: t('call.remove_confirm_body', { name }),
    confirmLabel: t('call.remove_confirm'),
    onConfirm: () => actions.remove(userId),
  });
  return h(
    'li',
    { class: 'call-lobby__entry', dataset: { userId } },
    h('p', { class: 'call-lobby__name', text: name }),
    h('div', { class: 'call-lobby__actions' }, admit.button, remove.element),
  );
}

// The set-up step before starting or joining a call: a preview of my
// camera, a choice of camera and microphone, and what is wrong when the
// browser cannot use one of them. Joining works without either, to watch
// and listen.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { field } from './fields.js';

/** Returns the sentences that explain LocalMedia's problems, for the set-up step. */
export function problemSentences(media) {
  const { video, audio } = media.problems;
  if (video === 'unsupported' || audio === 'unsupported') return [t('call.problem.unsupported')];
  const sentences = [];
  if (video) sentences.push(t(`call.problem.camera.${video}`));
  if (audio) sentences.push(t(`call.problem.microphone.${audio}`));
  if (sentences.length > 0) sentences.push(t('call.problem.view_only'));
  return sentences;
}

/** Fills a select with the devices of one kind and selects the one in use. */
function fillDevices(select, devices, inUse, { numbered, none }) {
  if (devices.length === 0) {
    select.replaceChildren(h('option', { value: '', text: none }));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  select.replaceChildren(
    ...devices.map((device, index) =>
      h('option', {
        value: device.deviceId,
        // Browsers give labels only once a device of the kind is allowed.
        text: device.label || t(numbered, { number: index + 1 }),
      }),
    ),
  );
  const usedId = inUse?.getSettings().deviceId;
  if (usedId && devices.some((device) => device.deviceId === usedId)) select.value = usedId;
}

/**
 * Creates the set-up panel for LocalMedia `media`. `onReady()` starts or
 * joins, `onCancel()` goes back, and `onDevicesChanged()` follows a new
 * choice of device. Returns `{ element, heading, show(mode), update() }`,
 * where `mode` is 'start' or 'join'.
 */
export function setupPanel(media, { onReady, onCancel, onDevicesChanged }) {
  const heading = h('h3', {
    id: 'call-setup-heading',
    text: t('call.setup_title'),
    attrs: { tabindex: '-1' },
  });
  const video = h('video', {
    class: 'call-tile__video',
    muted: true,
    playsInline: true,
    attrs: { 'aria-label': t('call.preview_label') },
  });
  const noPicture = h('p', { class: 'call-tile__placeholder', text: t('call.no_picture') });
  const problems = h('div', { class: 'call-setup__problems' });
  // An alert region stays in the page, so filling it announces the problem.
  const problemRegion = h('div', { attrs: { role: 'alert' } }, problems);
  const camera = field({
    id: 'call-camera',
    name: 'camera',
    tag: 'select',
    label: t('call.camera'),
  });
  const microphone = field({
    id: 'call-microphone',
    name: 'microphone',
    tag: 'select',
    label: t('call.microphone'),
  });
  const retry = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('call.retry_devices'),
    hidden: true,
  });
  const ready = h('button', { type: 'button', class: 'button' });
  const cancel = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('call.cancel'),
  });
  const opening = h('p', { class: 'field__hint', text: t('call.opening_devices') });

  const reopen = async () => {
    opening.hidden = false;
    await media.open({
      cameraId: camera.input.value || null,
      microphoneId: microphone.input.value || null,
    });
    opening.hidden = true;
    onDevicesChanged();
  };
  camera.input.addEventListener('change', reopen);
  microphone.input.addEventListener('change', reopen);
  retry.addEventListener('click', reopen);
  ready.addEventListener('click', () => onReady());
  cancel.addEventListener('click', () => onCancel());

  const element = h(
    'div',
    { class: 'call-setup', attrs: { role: 'group', 'aria-labelledby': heading.id } },
    heading,
    h('p', { text: t('call.setup_intro') }),
    h('div', { class: 'call-setup__preview call-tile__media' }, video, noPicture),
    opening,
    problemRegion,
    h('div', { class: 'call-setup__devices' }, camera.wrapper, microphone.wrapper),
    h('div', { class: 'actions' }, ready, retry, cancel),
  );

  function update() {
    const hasVideo = Boolean(media.track('video'));
    if (video.srcObject !== media.stream) {
      video.srcObject = media.stream;
      video.play().catch(() => {});
    }
    video.hidden = !hasVideo;
    noPicture.hidden = hasVideo;
    problems.replaceChildren(...problemSentences(media).map((text) => h('p', { text })));
    retry.hidden = problems.childElementCount === 0;
    fillDevices(camera.input, media.cameras, media.track('video'), {
      numbered: 'call.camera_numbered',
      none: t('call.no_camera'),
    });
    fillDevices(microphone.input, media.microphones, media.track('audio'), {
      numbered: 'call.microphone_numbered',
      none: t('call.no_microphone'),
    });
  }

  async function show(mode) {
    ready.textContent = t(mode === 'start' ? 'call.start_now' : 'call.join_now');
    opening.hidden = false;
    update();
    await media.open();
    opening.hidden = true;
    // Joining may have been chosen while the devices were opening.
    onDevicesChanged();
  }

  return { element, heading, show, update };
}

// Live calls as one page takes part in them: signalling over the chat's
// WebSocket, and one RTCPeerConnection per media connection of the SFU. I
// publish my camera and microphone on one connection (`call_publish`) and
// receive each other participant on a connection of their own
// (`call_view`). Offers are complete (non-trickle): each waits for ICE
// gathering to finish, or for a few seconds, before it is sent.
//
// Offers go out one at a time. The server sends each reply when its work
// is done, not in the order the frames came, and its error frames name no
// request, so an error while one offer waits can only be that offer's.
//
// LocalMedia opens the camera and microphone, which the page previews
// before joining and then publishes.

/** Constraints of the camera: a small picture keeps the SFU and the browsers light. */
const VIDEO_CONSTRAINTS = {
  width: { ideal: 320 },
  height: { ideal: 240 },
  frameRate: { ideal: 15, max: 15 },
};

/** How long an offer waits for ICE gathering before it is sent with the candidates found so far. */
const GATHERING_TIMEOUT_MS = 4_000;
/**
 * How long an offer waits for its answer. The SFU itself waits up to 10 s
 * for a publisher's first packets before it answers a view.
 */
const ANSWER_TIMEOUT_MS = 25_000;
const FIRST_RETRY_DELAY_MS = 2_000;
const MAX_RETRY_DELAY_MS = 15_000;

/** The key of my publishing connection. Receiving connections are keyed by publisher id. */
const PUBLISH_KEY = 'publish';

/** Participant states in which a participant sends and receives media, or will again. */
const MEDIA_STATES = new Set(['in_call', 'paused']);

/** Returns the name of a getUserMedia failure as the page explains it. */
function problemOf(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    case 'NotReadableError':
    case 'AbortError':
      return 'in_use';
    default:
      return 'failed';
  }
}

/**
 * The camera and microphone of this page. Events: `change` when the
 * stream, the devices or a problem changed.
 */
export class LocalMedia extends EventTarget {
  /** The stream of the working devices, possibly without tracks. */
  stream = new MediaStream();
  /**
   * Why the camera (video) or the microphone (audio) is not working:
   * 'denied', 'missing', 'in_use', 'failed' or 'unsupported', or null.
   */
  problems = { video: null, audio: null };
  /** The cameras and microphones the browser lists, as MediaDeviceInfo. */
  cameras = [];
  microphones = [];
  /** Whether I turned my microphone (audio) or camera (video) on, applied to every new track. */
  enabled = { video: true, audio: true };
  /** Counts opens and closes: an open overtaken by a later open or a close stops its tracks. */
  #generation = 0;
  #onDeviceChange = () => this.#listDevices();

  get supported() {
    return Boolean(navigator.mediaDevices?.getUserMedia);
  }

  /** Returns the track of `kind` ('audio' or 'video'), or null. */
  track(kind) {
    return this.stream.getTracks().find((track) => track.kind === kind) ?? null;
  }

  /** Opens the camera and the microphone, or those with these device ids. */
  async open({ cameraId = null, microphoneId = null } = {}) {
    this.#generation += 1;
    const generation = this.#generation;

    if (!this.supported) {
      this.problems = { video: 'unsupported', audio: 'unsupported' };
      this.#emit();
      return;
    }
    navigator.mediaDevices.removeEventListener('devicechange', this.#onDeviceChange);
    navigator.mediaDevices.addEventListener('devicechange', this.#onDeviceChange);
    const video = cameraId
      ? { ...VIDEO_CONSTRAINTS, deviceId: { exact: cameraId } }
      : VIDEO_CONSTRAINTS;
    const audio = microphoneId ? { deviceId: { exact: microphoneId } } : true;

    const tracks = [];
    const problems = { video: null, audio: null };
    try {
      const both = await navigator.mediaDevices.getUserMedia({ video, audio });
      tracks.push(...both.getTracks());
    } catch (error) {
      // One missing or blocked device fails the request for both, so each
      // is asked for alone to find out which one it is.
      console.info('camera and microphone together failed', error);
      const [camera, microphone] = await Promise.allSettled([
        navigator.mediaDevices.getUserMedia({ video }),
        navigator.mediaDevices.getUserMedia({ audio }),
      ]);
      if (camera.status === 'fulfilled') tracks.push(...camera.value.getTracks());
      else problems.video = problemOf(camera.reason);
      if (microphone.status === 'fulfilled') tracks.push(...microphone.value.getTracks());
      else problems.audio = problemOf(microphone.reason);
    }

    if (generation !== this.#generation) {
      for (const track of tracks) track.stop();
      return;
    }
    this.#stopTracks();
    for (const track of tracks) track.enabled = this.enabled[track.kind];
    this.stream = new MediaStream(tracks);
    this.problems = problems;
    await this.#listDevices();
  }

  /** Turns my microphone (audio) or camera (video) on or off, without closing the device. */
  setEnabled(kind, enabled) {
    this.enabled[kind] = enabled;
    for (const track of this.stream.getTracks()) {
      if (track.kind === kind) track.enabled = enabled;
    }
    this.#emit();
  }

  /** Closes the devices, so the browser shows them as no longer in use. */
  close() {
    this.#generation += 1;
    navigator.mediaDevices?.removeEventListener('devicechange', this.#onDeviceChange);
    this.#stopTracks();
    this.stream = new MediaStream();
    this.#emit();
  }

  #stopTracks() {
    for (const track of this.stream.getTracks()) track.stop();
  }

  async #listDevices() {
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      this.cameras = devices.filter((device) => device.kind === 'videoinput' && device.deviceId);
      this.microphones = devices.filter(
        (device) => device.kind === 'audioinput' && device.deviceId,
      );
    } catch (error) {
      console.warn('listing cameras and microphones failed', error);
    }
    this.#emit();
  }

  #emit() {
    this.dispatchEvent(new Event('change'));
  }
}

/** Resolves once ICE gathering of `connection` is complete, or after `timeoutMs`. */
function gatheringComplete(connection, timeoutMs) {
  if (connection.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      connection.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (connection.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    connection.addEventListener('icegatheringstatechange', check);
  });
}

/**
 * One media connection with the SFU: my publishing one, or the one that
 * receives `publisherId`. `state` is 'waiting' (for its turn or a retry),
 * 'negotiating', 'connecting', 'connected', 'lost' or 'failed'.
 */
class MediaLink {
  constructor(key, publications) {
    this.key = key;
    this.publisherId = key === PUBLISH_KEY ? null : key;
    /** The publisher's count of publications when this link was made, or null. */
    this.publications = publications;
    this.connection = null;
    /** What the receiving connection receives, for the participant's tile. */
    this.stream = null;
    this.state = 'waiting';
    this.failures = 0;
    this.retryTimer = null;
    this.closed = false;
  }
}

/**
 * My part in the live call of one conversation. `phase` is 'idle' (not in
 * the call), 'joining' (waiting for the reply to `call_start` or
 * `call_join`), 'joined', 'ended' (the call ended, for `endReason`)
 * or 'removed' (the host removed me).
 *
 * Events: `change` whenever the call, my phase or a media connection
 * changed, and `failure` (detail: { code }) for an error the page shows.
 */
export class CallClient extends EventTarget {
  #chat;
  #conversationId;
  #userId;
  #media;
  #call = null;
  #phase = 'idle';
  /** The call I joined, which stays the same while the call frames come and go. */
  #joinedCallId = null;
  /** The frame whose reply `joining` waits for, sent again after a reconnect. */
  #joinFrame = null;
  #endReason = null;
  /** Media connections, by publisher id, and my publishing one by PUBLISH_KEY. */
  #links = new Map();
  /** Links waiting for their turn to send an offer. */
  #queue = [];
  #pumping = false;
  /** The offer waiting for its answer: `{ link, finish(reply) }`. */
  #pending = null;
  /** Counts teardowns, so that work begun before one stops after it. */
  #generation = 0;
  /** Whether I left while my join was waiting for its reply, which then needs a `call_leave`. */
  #leaveOnReply = false;
  #listeners;

  constructor(chat, conversationId, userId, media) {
    super();
    this.#chat = chat;
    this.#conversationId = conversationId;
    this.#userId = userId;
    this.#media = media;
    // The server follows a `subscribe` with the conversation's live call,
    // so a page opened during a call learns of it.
    this.#call = chat.callOf(conversationId);
    this.#listeners = {
      call: (event) => this.#onCall(event.detail),
      call_answer: (event) => this.#onAnswer(event.detail),
      call_error: (event) => this.#onError(event.detail.code),
      problem: (event) => {
        // A call frame whose work failed on the server gets server.busy, which names no request.
        if (event.detail.code === 'server.busy') this.#pending?.finish({ code: 'server.busy' });
      },
      open: () => this.#onReconnected(),
      status: () => this.#emit(),
    };
    for (const [type, listener] of Object.entries(this.#listeners)) {
      chat.addEventListener(type, listener);
    }
  }

  /** The call of the newest `call` frame of this conversation, or null. */
  get call() {
    return this.#call;
  }

  get phase() {
    return this.#phase;
  }

  /**
   * Why the call I was in ended: `ended_by_host`, `host_left`,
   * `time_limit`, `link_suspended`, `link_ended`, `server_restart`, or
   * `gone` when the server has no record of the call.
   */
  get endReason() {
    return this.#endReason;
  }

  get userId() {
    return this.#userId;
  }

  /** Whether the live connection to the server is open. */
  get online() {
    return this.#chat.connectionStatus === 'open';
  }

  /** Whether the conversation has a live call. */
  get live() {
    return this.#call?.status === 'live';
  }

  /** The call I joined last, which may have ended since. */
  get joinedCallId() {
    return this.#joinedCallId;
  }

  /** Whether I may join the live call: there is one, and the host did not remove me from it. */
  get mayJoin() {
    const removedHere = this.#phase === 'removed' && this.#call?.call_id === this.#joinedCallId;
    return this.live && !removedHere;
  }

  /** My entry among the call's participants, or null. */
  get me() {
    return this.participant(this.#userId);
  }

  get isHost() {
    return this.#phase === 'joined' && this.#call?.host_id === this.#userId;
  }

  participant(userId) {
    return this.#call?.participants?.find((each) => each.user_id === userId) ?? null;
  }

  /** Returns what I receive of `userId`, or null. */
  remoteStream(userId) {
    return this.#links.get(userId)?.stream ?? null;
  }

  /** Returns the state of the connection that receives `userId`, or null when there is none. */
  linkState(userId) {
    return this.#links.get(userId)?.state ?? null;
  }

  /** Starts a call in the conversation (staff), or joins the one live there. */
  start() {
    this.#sendJoin({ type: 'call_start', conversation_id: this.#conversationId });
  }

  /** Joins the live call. A family member waits in its lobby. */
  join() {
    if (!this.live) return;
    this.#sendJoin({ type: 'call_join', call_id: this.#call.call_id });
  }

  leave() {
    if (this.#phase === 'joined') this.#send('call_leave');
    // A join already sent is left as soon as its reply comes.
    this.#leaveOnReply = this.#phase === 'joining';
    this.#teardown();
    this.#joinFrame = null;
    this.#setPhase('idle');
  }

  /** Ends the call for everyone (the host). */
  end() {
    this.#send('call_end');
  }

  admit(userId) {
    this.#send('call_admit', { user_id: userId });
  }

  pause(userId) {
    this.#send('call_pause', { user_id: userId });
  }

  /** Mutes or unmutes a participant's `kind` ('audio' or 'video') for everyone. */
  mute(userId, kind, muted) {
    this.#send('call_mute', { user_id: userId, kind, muted });
  }

  remove(userId) {
    this.#send('call_remove', { user_id: userId });
  }

  /**
   * Publishes the tracks of LocalMedia as they are now. Another device of
   * the same kinds replaces the track on the open connection; a kind
   * gained or lost needs a new offer.
   */
  async updateLocalTracks() {
    const link = this.#links.get(PUBLISH_KEY);
    const tracks = this.#media.stream.getTracks();
    if (link?.connection) {
      const senders = link.connection.getSenders().filter((sender) => sender.track);
      const sentKinds = senders.map((sender) => sender.track.kind).sort().join();
      const kinds = tracks.map((track) => track.kind).sort().join();
      if (sentKinds === kinds) {
        for (const sender of senders) {
          const track = tracks.find((each) => each.kind === sender.track.kind);
          await sender.replaceTrack(track).catch((error) => {
            console.warn('replacing a published track failed', error);
          });
        }
        return;
      }
    }
    if (link) this.#closeLink(link);
    this.#reconcile();
  }

  /**
   * Leaves the call, if I am in it, and stops listening to the chat. A
   * join still waiting for its reply is left when the reply comes, or
   * given up after ANSWER_TIMEOUT_MS.
   */
  dispose() {
    if (this.#phase === 'joined' || this.#phase === 'joining') this.leave();
    for (const [type, listener] of Object.entries(this.#listeners)) {
      if (type === 'call' && this.#leaveOnReply) continue;
      this.#chat.removeEventListener(type, listener);
    }
    if (this.#leaveOnReply) {
      setTimeout(() => {
        this.#leaveOnReply = false;
        this.#chat.removeEventListener('call', this.#listeners.call);
      }, ANSWER_TIMEOUT_MS);
    }
  }

  #send(type, fields = {}) {
    const callId = this.#joinedCallId ?? this.#call?.call_id;
    if (!callId) return;
    this.#chat.sendCall({ type, call_id: callId, ...fields });
  }

  #sendJoin(frame) {
    this.#leaveOnReply = false;
    this.#endReason = null;
    this.#joinFrame = frame;
    this.#setPhase('joining');
    // Sent after a reconnect if the socket is down now.
    this.#chat.sendCall(frame);
  }

  #onReconnected() {
    if (this.#phase === 'joined') {
      // The server keeps my place for a while: join again over this
      // socket, then publish and view again with fresh offers.
      this.#teardown();
      this.#joinFrame = { type: 'call_join', call_id: this.#joinedCallId };
      this.#setPhase('joining');
    }
    if (this.#phase === 'joining') this.#chat.sendCall(this.#joinFrame);
  }

  #onCall(call) {
    if (call.conversation_id !== this.#conversationId) return;
    const previous = this.#call;
    this.#call = call;
    const me = this.me;
    const inCall = me && ['lobby', 'in_call', 'paused'].includes(me.state);
    if (this.#leaveOnReply && call.status === 'live' && inCall) {
      this.#leaveOnReply = false;
      this.#chat.sendCall({ type: 'call_leave', call_id: call.call_id });
    }

    if (this.#phase === 'joining') {
      const answered = inCall;
      const rejoining = this.#joinFrame?.type === 'call_join';
      const sameCall = !rejoining || call.call_id === this.#joinFrame.call_id;
      if (call.status === 'live' && answered && sameCall) {
        this.#joinedCallId = call.call_id;
        this.#joinFrame = null;
        this.#setPhase('joined', false);
      } else if (call.status === 'ended' && rejoining && sameCall) {
        // The server replies to a join of a call that has ended with its
        // end reason, such as a restart while my connection was down.
        this.#finish('ended', call.end_reason ?? 'gone');
      }
    } else if (this.#phase === 'joined' && call.call_id !== this.#joinedCallId) {
      // Only one call is live in a conversation, so mine has ended.
      this.#finish('ended', previous?.end_reason ?? 'gone');
    }

    if (this.#phase === 'joined' && call.call_id === this.#joinedCallId) {
      if (call.status === 'ended') this.#finish('ended', call.end_reason ?? 'gone');
      else if (me?.state === 'removed') this.#finish('removed', null);
      else if (!me || me.state === 'left') this.#finish('idle', null);
    }
    this.#reconcile();
    this.#emit();
  }

  #onAnswer(frame) {
    const pending = this.#pending;
    if (!pending || frame.call_id !== this.#joinedCallId) return;
    const expected = pending.link.publisherId ?? this.#userId;
    if (frame.publisher_id === expected) pending.finish({ sdp: frame.sdp });
  }

  #onError(code) {
    if (this.#phase === 'joining') {
      if (code === 'call.unknown') {
        this.#finish('ended', 'gone');
        this.#emit();
        return;
      }
      if (code === 'call.removed') {
        this.#finish('removed', null);
        this.#emit();
        return;
      }
    }
    if (this.#pending) {
      this.#pending.finish({ code });
      return;
    }
    this.dispatchEvent(new CustomEvent('failure', { detail: { code } }));
  }

  #finish(phase, reason) {
    this.#teardown();
    this.#joinFrame = null;
    this.#endReason = reason;
    this.#phase = phase;
  }

  #setPhase(phase, emit = true) {
    this.#phase = phase;
    if (emit) this.#emit();
  }

  // Opens the connections the call needs now and closes the others: my
  // publishing one while I have tracks, and one per other participant who
  // is in the call or paused and has published. A participant who
  // published again has a new connection at the SFU, so viewing them
  // needs a new offer too.
  #reconcile() {
    const me = this.me;
    const active =
      this.#phase === 'joined' &&
      this.#call?.call_id === this.#joinedCallId &&
      this.live &&
      me &&
      MEDIA_STATES.has(me.state);
    // Each connection wanted, with the publisher's count of publications
    // (null for my own, or when the server does not count them).
    const wanted = new Map();
    if (active) {
      if (this.#media.stream.getTracks().length > 0) wanted.set(PUBLISH_KEY, null);
      for (const participant of this.#call.participants ?? []) {
        if (participant.user_id === this.#userId || !MEDIA_STATES.has(participant.state)) continue;
        const publications = participant.publications ?? null;
        // Without a publication there is nothing to view yet.
        if (publications === 0) continue;
        wanted.set(participant.user_id, publications);
      }
    }
    for (const link of [...this.#links.values()]) {
      const publications = wanted.get(link.key);
      const republished =
        publications !== undefined &&
        publications !== null &&
        link.publications !== null &&
        publications > link.publications;
      if (publications === undefined || republished) this.#closeLink(link);
    }
    for (const [key, publications] of wanted) {
      if (this.#links.has(key)) continue;
      const link = new MediaLink(key, publications);
      this.#links.set(key, link);
      this.#enqueue(link);
    }
  }

  #enqueue(link) {
    if (link.closed || this.#queue.includes(link)) return;
    link.state = 'waiting';
    // The others' offers to view me wait for my media, so mine goes first.
    if (link.key === PUBLISH_KEY) this.#queue.unshift(link);
    else this.#queue.push(link);
    this.#pump();
  }

  async #pump() {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const link = this.#queue.shift();
        if (!link.closed) await this.#negotiate(link);
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #negotiate(link) {
    const generation = this.#generation;
    const stale = () => generation !== this.#generation || link.closed;
    link.connection?.close();
    // Each entry is already in the form RTCPeerConnection takes: urls, with
    // a user name and credential for TURN.
    const iceServers = this.#call?.ice_servers ?? [];
    const connection = new RTCPeerConnection({ iceServers });
    link.connection = connection;
    link.state = 'negotiating';
    if (link.publisherId) {
      const stream = new MediaStream();
      link.stream = stream;
      connection.addTransceiver('audio', { direction: 'recvonly' });
      connection.addTransceiver('video', { direction: 'recvonly' });
      connection.addEventListener('track', (event) => {
        stream.addTrack(event.track);
        this.#emit();
      });
    } else {
      const stream = this.#media.stream;
      for (const track of stream.getTracks()) {
        connection.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      }
    }
    connection.addEventListener('connectionstatechange', () =>
      this.#onConnectionState(link, connection),
    );
    this.#emit();

    let sdp;
    try {
      await connection.setLocalDescription();
      await gatheringComplete(connection, GATHERING_TIMEOUT_MS);
      sdp = connection.localDescription.sdp;
    } catch (error) {
      console.warn('creating an offer failed', error);
      if (!stale()) this.#retryLater(link, connection, 'offer_failed');
      return;
    }
    if (stale()) {
      connection.close();
      return;
    }

    const frame = link.publisherId
      ? { type: 'call_view', call_id: this.#joinedCallId, publisher_id: link.publisherId, sdp }
      : { type: 'call_publish', call_id: this.#joinedCallId, sdp };
    const reply = await this.#request(link, frame);
    if (stale() || link.connection !== connection) {
      connection.close();
      return;
    }
    if (reply.code) {
      console.warn(`offer of ${link.key} failed: ${reply.code}`);
      this.#retryLater(link, connection, reply.code);
      return;
    }
    try {
      await connection.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
      if (link.state === 'negotiating') link.state = 'connecting';
    } catch (error) {
      console.warn('the SFU answer could not be applied', error);
      this.#retryLater(link, connection, 'answer_failed');
    }
    this.#emit();
  }

  /** Sends an offer and resolves with `{ sdp }` of its answer or `{ code }` of its failure. */
  #request(link, frame) {
    return new Promise((resolve) => {
      const finish = (reply) => {
        clearTimeout(timer);
        if (this.#pending?.finish === finish) this.#pending = null;
        resolve(reply);
      };
      const timer = setTimeout(() => finish({ code: 'timeout' }), ANSWER_TIMEOUT_MS);
      this.#pending = { link, finish };
      if (!this.#chat.sendCall(frame)) finish({ code: 'offline' });
    });
  }

  #retryLater(link, connection, code) {
    connection.close();
    if (link.connection === connection) link.connection = null;
    if (link.closed) return;
    if (code === 'call.invalid_sdp') {
      // The same browser makes the same offer, so trying again cannot help.
      link.state = 'failed';
      this.dispatchEvent(new CustomEvent('failure', { detail: { code } }));
      this.#emit();
      return;
    }
    link.state = 'lost';
    link.failures += 1;
    const delay = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** (link.failures - 1));
    clearTimeout(link.retryTimer);
    link.retryTimer = setTimeout(() => {
      link.retryTimer = null;
      this.#enqueue(link);
    }, delay);
    this.#emit();
  }

  #onConnectionState(link, connection) {
    if (link.connection !== connection || link.closed) return;
    switch (connection.connectionState) {
      case 'connected':
        link.state = 'connected';
        link.failures = 0;
        break;
      case 'disconnected':
        // ICE may recover by itself; the tile shows the loss meanwhile.
        link.state = 'lost';
        break;
      case 'failed':
        this.#retryLater(link, connection, 'connection_failed');
        return;
      default:
        return;
    }
    this.#emit();
  }

  #closeLink(link) {
    link.closed = true;
    clearTimeout(link.retryTimer);
    this.#queue = this.#queue.filter((each) => each !== link);
    link.connection?.close();
    link.connection = null;
    this.#links.delete(link.key);
  }

  // Closes every media connection. An offer still waiting for its answer
  // is given up, because its answer or error cannot come on a new socket.
  #teardown() {
    this.#generation += 1;
    for (const link of [...this.#links.values()]) this.#closeLink(link);
    this.#queue = [];
    this.#pending?.finish({ code: 'cancelled' });
  }

  #emit() {
    this.dispatchEvent(new Event('change'));
  }
}

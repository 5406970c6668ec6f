/**
 * Messages between the gateway's replicas, with Redis pub/sub semantics: a message reaches whoever subscribes to
 * its channel at the moment it is published, at most once, in the order one publisher sent it. Nothing is kept
 * for a subscriber that comes later.
 */
export interface Bus {
  /** Sends `message` to the channel's current subscribers and resolves with how many there were (0: nobody heard it). */
  publish(channel: string, message: string): Promise<number>;
  /** Delivers the channel's messages to `onMessage` once the returned promise resolves; the function it gives unsubscribes. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
}

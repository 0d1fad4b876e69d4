import type { ExecutionResult } from 'graphql';
import { ClientQueue } from './clientQueue';
import { slowConsumerError } from './clientSubscription';
import { OverLimit } from './overLimit';

/** A result yoga's result processors (SSE, multipart) serialize with its own `stringify` (yoga's ExecutionResultWithSerializer). */
export type SelfSerializingResult = ExecutionResult & { stringify(result: ExecutionResult): string };

/** What every member of a group receives for one reading: the result executed once, its position, and its JSON serialized once. */
export class SharedResult {
  private serialized?: string;
  private selfSerializing?: SelfSerializingResult;

  constructor(
    readonly result: ExecutionResult,
    /** The reading's position (SSE event id); undefined where the executed reading had none. */
    readonly position: string | undefined,
    /** The result as a client may see it (errors masked), in JSON; called at most once. */
    private readonly serialize: (result: ExecutionResult) => string,
  ) {}

  get json(): string {
    this.serialized ??= this.serialize(this.result);
    return this.serialized;
  }

  /**
   * The result for members whose transport is yoga's (SSE): one object for all of them, which yoga
   * serializes to the group's JSON. A copy that a plugin made on the way (yoga's own, for errors) is
   * not this object and is serialized as yoga would.
   */
  get forYoga(): SelfSerializingResult {
    this.selfSerializing ??= { ...this.result, stringify: (result) => (result === this.selfSerializing ? this.json : JSON.stringify(result)) };
    return this.selfSerializing;
  }
}

/**
 * Where a member's results go when its transport writes pre-serialized payloads itself (WebSocket),
 * instead of sending what its iterator yields.
 */
export interface FrameSink {
  /** Writes one `next` message with this payload (JSON) for the member's operation. */
  next(payloadJson: string): void;
  /** Messages written that the socket has not yet handed to the kernel. */
  readonly backlog: number;
}

export interface LiveGroupsOptions {
  /** Results a member may have queued; one that stays over it for slowConsumerMs is closed with SLOW_CONSUMER (SUBSCRIPTION_BUFFER). */
  bufferSize: number;
  slowConsumerMs: number;
}

/** Opens the group's one stream: the first member's subscription, executed for the whole group. */
export type OpenGroupStream = () => Promise<AsyncIterator<SharedResult>>;

/** A member: its queue (what its iterator yields, or only its end), and how a result reaches it. */
interface Member {
  readonly queue: ClientQueue<SharedResult>;
  /** False when the member is too slow (SLOW_CONSUMER). */
  deliver(shared: SharedResult): boolean;
}

interface Group {
  readonly members: Set<Member>;
  stream?: AsyncIterator<SharedResult>;
  closed: boolean;
}

/**
 * Subscribers whose operations are the same (document, operation name, variables, and the scope that
 * decides what they may see) share one subscription: per reading it executes once, and each member
 * gets the same result object in a queue of its own. A group opens with its first member and closes
 * with its last; a member that leaves, fails or is too slow leaves the others undisturbed. Whoever
 * builds the key answers for the scope: operations that may see different data never share a key.
 */
export class LiveGroups {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly options: LiveGroupsOptions) {}

  /** Groups open right now (for tests and stats). */
  get size(): number {
    return this.groups.size;
  }

  /**
   * A member's iterator; return() leaves the group. With a sink, results are written to it and the
   * iterator yields nothing: it only ends (or fails) with the member.
   */
  join(key: string, open: OpenGroupStream, sink: FrameSink): AsyncIterableIterator<never>;
  join(key: string, open: OpenGroupStream): AsyncIterableIterator<SharedResult>;
  join(key: string, open: OpenGroupStream, sink?: FrameSink): AsyncIterableIterator<SharedResult> {
    let group = this.groups.get(key);
    const isNew = !group;
    if (!group) {
      group = { members: new Set(), closed: false };
      this.groups.set(key, group);
    }
    const joined = group;
    const { bufferSize, slowConsumerMs } = this.options;
    const queue: ClientQueue<SharedResult> = new ClientQueue(bufferSize, slowConsumerMs, () => this.leave(key, joined, member));
    let member: Member;
    if (sink) {
      const overLimit = new OverLimit(bufferSize, slowConsumerMs);
      member = {
        queue,
        deliver: (shared) => {
          sink.next(shared.json);
          return overLimit.allows(sink.backlog);
        },
      };
    } else {
      member = { queue, deliver: (shared) => queue.push(shared) };
    }
    joined.members.add(member);
    // The group holds the stream, not the function that opened it: that closes over the first member's context.
    if (isNew) void this.pump(key, joined, open());
    return queue;
  }

  /** Reads the group's stream and hands each result to every member. */
  private async pump(key: string, group: Group, opening: ReturnType<OpenGroupStream>): Promise<void> {
    try {
      const stream = await opening;
      group.stream = stream;
      if (group.closed) {
        await stream.return?.();
        return;
      }
      for (;;) {
        const next = await stream.next();
        if (next.done || group.closed) break;
        for (const member of group.members) {
          if (!member.deliver(next.value)) member.queue.fail(slowConsumerError(this.options.bufferSize, this.options.slowConsumerMs));
        }
      }
      this.close(key, group, (queue) => queue.end());
    } catch (error) {
      this.close(key, group, (queue) => queue.fail(error instanceof Error ? error : new Error(String(error))));
    }
  }

  private leave(key: string, group: Group, member: Member): void {
    group.members.delete(member);
    if (group.members.size > 0 || group.closed) return;
    group.closed = true;
    if (this.groups.get(key) === group) this.groups.delete(key);
    void group.stream?.return?.();
  }

  /** Ends the group and every member still in it (each member's own stop then finds the group closed). */
  private close(key: string, group: Group, stop: (queue: ClientQueue<SharedResult>) => void): void {
    group.closed = true;
    if (this.groups.get(key) === group) this.groups.delete(key);
    for (const member of [...group.members]) stop(member.queue);
  }
}

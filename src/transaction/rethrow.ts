/**
 * Reports an error thrown by an application callback outside the current
 * call stack, so that the layer that called it is never left half-way through
 * a transition: through queueMicrotask where the runtime has it (an uncaught
 * exception), else through a rejected promise (an unhandled rejection), which
 * needs nothing beyond ECMAScript.
 */
export function rethrowLater(error: unknown): void {
  if (typeof queueMicrotask === 'function') {
    queueMicrotask(() => {
      throw error;
    });
  } else {
    void Promise.reject(error);
  }
}

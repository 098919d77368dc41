package dev.weft.jmh

import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/**
 * The KOTLIN peer: N coroutines on `Dispatchers.Default`, children of one parent `Job`, suspended
 * in `awaitCancellation()` (the parked case) or in `delay` (the sleeping case), stopped with
 * `parent.cancelAndJoin()`. Loaded by name from [Coroutines]; the only class of this module that
 * uses Kotlin types.
 *
 * The children are launched with `CoroutineStart.UNDISPATCHED`: each runs on the launching thread
 * up to its first suspension, so when `launch` returns the child is suspended, and the set-up (not
 * timed) needs no latch and no polling. Only the start is undispatched: the resumption that the
 * cancellation causes is dispatched on `Dispatchers.Default`, as for any coroutine launched there.
 */
class KotlinCoroutines : Coroutines.Factory {

    override fun start(n: Int, sleeping: Boolean, checked: Boolean): Coroutines.Children {
        require(n >= 1) { "n must be at least 1, was $n" }
        val parent = Job()
        val scope = CoroutineScope(parent + Dispatchers.Default)
        try {
            repeat(n) {
                scope.launch(start = CoroutineStart.UNDISPATCHED) {
                    if (checked) {
                        ensureActive()
                    }
                    if (sleeping) {
                        delay(DAY_MILLIS)
                    } else {
                        awaitCancellation()
                    }
                }
            }
            val suspended = parent.children.count { it.isActive }
            check(suspended == n) { "$suspended of $n coroutines are suspended after launch; all should be" }
        } catch (t: Throwable) {
            parent.cancel()
            throw t
        }
        return Started(parent, n)
    }

    private class Started(private val parent: Job, private val n: Int) : Coroutines.Children {

        override fun cancelAndJoin() = runBlocking { parent.cancelAndJoin() }

        override fun verifyCompleted() {
            check(parent.isCompleted && parent.isCancelled) {
                "the parent job of $n coroutines is not completed and cancelled after cancelAndJoin(): $parent"
            }
            val left = parent.children.count()
            check(left == 0) { "$left of $n coroutines are still children of the parent after cancelAndJoin()" }
        }

        override fun abandon() = parent.cancel()
    }

    private companion object {
        val DAY_MILLIS = TimeUnit.DAYS.toMillis(1)
    }
}

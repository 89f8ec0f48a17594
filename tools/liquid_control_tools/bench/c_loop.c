/* The control loop's floor in C: WallClockLoop's schedule (liquid_control/control/loop.py)
 * with nothing else in the process. Sleeps on absolute deadlines (clock_nanosleep,
 * CLOCK_MONOTONIC) until the busy-wait margin before each, spins to the deadline, skips
 * deadlines more than half a period late, and (adaptive) sets the margin to 1.25 times a
 * running 99th-percentile estimate of the wake-up lateness, as loop.py does.
 *
 *   c_loop RATE_HZ BUSY_WAIT_US ADAPTIVE(0|1) PRIORITY SECONDS
 *
 * Prints one tick start (ns) per line, then "cpu USER_S SYSTEM_S WALL_S" and
 * "scheduling FIFO|normal". Built and run by liquid_control_tools.bench.loop_timing_probe. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define LEAD_QUANTILE 0.99
#define LEAD_STEP_NS 50000.0

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static double seconds(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: c_loop RATE_HZ BUSY_WAIT_US ADAPTIVE PRIORITY SECONDS\n");
        return 2;
    }
    double rate = atof(argv[1]);
    long long busy_wait = atoll(argv[2]) * 1000LL;
    int adaptive = atoi(argv[3]);
    int priority = atoi(argv[4]);
    double duration = atof(argv[5]);
    int fifo = 0;
    if (priority > 0) {
        struct sched_param param = {.sched_priority = priority};
        fifo = sched_setscheduler(0, SCHED_FIFO, &param) == 0;
    }
    long long period = (long long)(1e9 / rate);
    long long capacity = (long long)(duration * rate) + 16;
    long long *starts = malloc(sizeof(long long) * capacity);
    long long count = 0;
    double lead = busy_wait / 1.25;
    long long begin = now_ns();
    long long end = begin + (long long)(duration * 1e9);
    long long deadline = begin + period;
    while (deadline < end && count < capacity) {
        long long spin = adaptive ? (long long)(1.25 * lead) : busy_wait;
        if (spin > period / 2) spin = period / 2;
        long long wake_at = deadline - spin;
        if (wake_at > now_ns()) {
            struct timespec ts = {wake_at / 1000000000LL, wake_at % 1000000000LL};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
            double sample = (double)(now_ns() - wake_at);
            if (sample > lead) lead += LEAD_STEP_NS * LEAD_QUANTILE;
            else lead = lead - LEAD_STEP_NS * (1.0 - LEAD_QUANTILE) > 0
                        ? lead - LEAD_STEP_NS * (1.0 - LEAD_QUANTILE) : 0.0;
        }
        while (now_ns() < deadline) {
        }
        long long now = now_ns();
        long long late = now - deadline;
        if (late > period / 2) {
            deadline += ((late + period / 2) / period) * period;
            if (deadline > now) continue;
        }
        starts[count++] = now;
        deadline += period;
    }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    for (long long i = 0; i < count; i++) printf("%lld\n", starts[i]);
    printf("cpu %.6f %.6f %.6f\n", seconds(usage.ru_utime), seconds(usage.ru_stime),
           (now_ns() - begin) / 1e9);
    printf("scheduling %s\n", fifo ? "FIFO" : "normal");
    free(starts);
    return 0;
}

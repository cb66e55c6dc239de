// Everything rt offers, in one include.
#pragma once

#include "rt/expected.hpp"
#include "rt/sched/runtime.hpp"
#include "rt/sync/notify.hpp"
#include "rt/task/join_error.hpp"
#include "rt/task/join_handle.hpp"
#include "rt/task/local_set.hpp"
#include "rt/task/select.hpp"
#include "rt/task/spawn.hpp"
#include "rt/task/task.hpp"
#include "rt/task/task_local.hpp"
#include "rt/task/this_task.hpp"
#include "rt/task/yield_now.hpp"
#include "rt/time/clock.hpp"
#include "rt/time/interval.hpp"
#include "rt/time/sleep.hpp"
#include "rt/time/timeout.hpp"

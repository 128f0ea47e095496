#pragma once
// What a scenario hands the engine: the coroutine each user runs once.

#include <wsload/core/task.hpp>

#include <functional>

namespace wsload {
class user;
}  // namespace wsload

namespace wsload::runtime {

/// A behaviour: the coroutine each user runs once. The user reference stays valid until it
/// returns; an exception ends that user only and is counted as behaviour_errors.
using behavior = std::function<task<>(user&)>;

}  // namespace wsload::runtime

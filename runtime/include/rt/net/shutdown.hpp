// rt::net::shutdown_mode: which direction of a stream socket shutdown() closes.
//
//     stream.shutdown(rt::net::shutdown_mode::write);   // half-close: the peer reads EOF
#pragma once

namespace rt::net {

enum class shutdown_mode { read, write, both };

} // namespace rt::net

// The create/run flags about what happens around making a container:
// --pull (which image to use), --replace (an older container of the same
// name goes first) and --cidfile (where the new ID is written), with
// podman's messages.
#pragma once

#include <string>

#include "cmd/app.h"
#include "image/store.h"
#include "runtime/base/result.h"

namespace ctr::cmd {

// always | missing | never | newer. ctr has no pull yet: "always" and
// "newer" are errors saying so; anything else is an unsupported policy.
Status check_pull_policy(const std::string& policy);
// The image for a new container under `policy` (checked already): a missing
// image is an error that says pulling is not implemented (podman's "image
// not known" for never).
Result<image::ImageRecord> image_for_create(const image::Store& store, const std::string& image,
                                            const std::string& policy);

// --replace needs --name; --cidfile FILE must not exist yet (podman checks
// both before doing anything).
Status check_replace_and_cidfile(bool replace, const std::string& name, const std::string& cidfile);
// --replace: stops (SIGKILL) and removes the container called exactly
// `name`, if there is one, as `rm -f` would. Not under the store lock: the
// container's exit command takes it.
Status remove_for_replace(Context& ctx, const std::string& name);
// Writes `id` to `path` atomically and exclusively: a temporary file linked
// to `path`, so a reader never sees a partial ID and an existing file is
// never overwritten (EEXIST, with podman's message).
Status write_cidfile(const std::string& path, const std::string& id);

}  // namespace ctr::cmd

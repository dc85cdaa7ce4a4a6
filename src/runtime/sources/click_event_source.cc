// The generated click stream (streamstate/sources.h): a generator whose record i is a click of a
// uniformly chosen user on a page, at an event time spaced by events_per_second and jittered
// backwards by up to max_out_of_order_millis.

#include <cstdint>
#include <memory>
#include <string>

#include "streamstate/sources.h"

namespace streamstate {

namespace {

constexpr const char* kPlainPages[] = {"/home", "/search", "/cart"};

// Appends `value` in decimal, zero-padded to at least `width` digits (snprintf is a third of
// the cost of an event).
void append_decimal(std::string& out, uint64_t value, size_t width) {
  char digits[20];
  size_t length = 0;
  do {
    digits[length++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  if (width > length) out.append(width - length, '0');
  while (length > 0) out += digits[--length];
}

}  // namespace

ClickEvent make_click_event(const ClickEventOptions& options, uint64_t index, GeneratorRandom& random) {
  ClickEvent event;
  event.user = "user-";
  append_decimal(event.user, random.below(options.users), 5);
  // A quarter of the clicks on the plain pages, the rest on one of 1000 products.
  const uint64_t page = random.below(4000);
  if (page < 1000) {
    event.page = kPlainPages[page % 3];
  } else {
    event.page = "/product/";
    append_decimal(event.page, page % 1000, 1);
  }
  const uint64_t per_second = options.events_per_second == 0 ? 1 : options.events_per_second;
  const auto offset = static_cast<int64_t>(index / per_second * 1000 + index % per_second * 1000 / per_second);
  const int64_t jitter = options.max_out_of_order_millis > 0
                             ? static_cast<int64_t>(random.below(static_cast<uint64_t>(options.max_out_of_order_millis) + 1))
                             : 0;
  event.time_millis = options.start_millis + offset - jitter;
  return event;
}

namespace {

// Checks the click options before the generator does its own checks.
class ClickEventSource final : public Source<ClickEvent> {
 public:
  explicit ClickEventSource(ClickEventOptions options) : options_(std::move(options)) {
    GeneratorOptions generator;
    generator.seed = options_.seed;
    generator.splits = options_.splits;
    generator.count = options_.count;
    generator.records_per_second = options_.rate;
    generator.clock = options_.clock;
    const ClickEventOptions captured = options_;
    generator_ = generator_source<ClickEvent>(
        generator,
        [captured](uint64_t index, GeneratorRandom& random) { return make_click_event(captured, index, random); },
        [](const ClickEvent& event) { return event.time_millis; });
  }

  Result<std::vector<SourceSplit>> discover_splits() override {
    Status valid = validate();
    if (!valid.is_ok()) return valid;
    return generator_->discover_splits();
  }
  Result<std::unique_ptr<SourceReader<ClickEvent>>> open_reader(std::vector<SourceSplit> splits,
                                                                const SourceReaderContext& context) override {
    Status valid = validate();
    if (!valid.is_ok()) return valid;
    return generator_->open_reader(std::move(splits), context);
  }
  std::string describe() const override {
    return "click events (" + std::to_string(options_.users) + " users) from " + generator_->describe();
  }

 private:
  Status validate() const {
    if (options_.users == 0) {
      return Status::invalid_argument("click_event_source: ClickEventOptions::users is 0; it must be at least 1");
    }
    if (options_.events_per_second == 0) {
      return Status::invalid_argument(
          "click_event_source: ClickEventOptions::events_per_second is 0; it must be at least 1");
    }
    if (options_.max_out_of_order_millis < 0) {
      return Status::invalid_argument("click_event_source: ClickEventOptions::max_out_of_order_millis is " +
                                      std::to_string(options_.max_out_of_order_millis) + "; it must be >= 0");
    }
    return Status::ok();
  }

  ClickEventOptions options_;
  std::shared_ptr<Source<ClickEvent>> generator_;
};

}  // namespace

std::shared_ptr<Source<ClickEvent>> click_event_source(ClickEventOptions options) {
  return std::make_shared<ClickEventSource>(std::move(options));
}

}  // namespace streamstate

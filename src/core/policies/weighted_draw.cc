#include "core/policies/weighted_draw.h"

namespace fulcrum::core::policies {

AliasTable::AliasTable(std::span<const Member> members) : columns_(members.size()) {
  const std::size_t n = members.size();
  for (const Member& m : members) total_ += m.spec.weight;
  if (total_ == 0) return;

  // Scale every weight by n so that each column's capacity is exactly total_ and all arithmetic
  // stays integral (weights are 32-bit, so this fits for any realistic member count).
  std::vector<uint64_t> scaled(n);
  std::vector<uint32_t> small;  // Below capacity: needs an alias to fill its column.
  std::vector<uint32_t> large;  // Above capacity: donates to small columns.
  for (std::size_t i = 0; i < n; ++i) {
    columns_[i].weight = members[i].spec.weight;
    columns_[i].alias = static_cast<uint32_t>(i);
    scaled[i] = uint64_t{members[i].spec.weight} * n;
    if (scaled[i] < total_) {
      small.push_back(static_cast<uint32_t>(i));
    } else if (scaled[i] > total_) {
      large.push_back(static_cast<uint32_t>(i));
    } else {
      columns_[i].threshold = total_;  // Exactly full: no alias needed.
    }
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back();
    small.pop_back();
    const uint32_t l = large.back();
    columns_[s].threshold = scaled[s];
    columns_[s].alias = l;
    // l stays > scaled[s] >= 0, so a member with weight keeps a non-empty part of its column.
    scaled[l] -= total_ - scaled[s];
    if (scaled[l] < total_) {
      large.pop_back();
      small.push_back(l);
    } else if (scaled[l] == total_) {
      large.pop_back();
      columns_[l].threshold = total_;
    }
  }
  // With exact integers the sums balance, so both lists empty together; this is only a guard.
  for (uint32_t i : small) columns_[i].threshold = total_;
  for (uint32_t i : large) columns_[i].threshold = total_;
}

uint64_t AliasTable::mass(std::size_t i) const {
  uint64_t m = 0;
  for (std::size_t k = 0; k < columns_.size(); ++k) {
    if (k == i) m += columns_[k].threshold;
    if (columns_[k].alias == i && k != i) m += total_ - columns_[k].threshold;
  }
  return m;
}

}  // namespace fulcrum::core::policies

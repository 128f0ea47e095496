#pragma once
// Things a worker must reach when the run ends: users (to cut their sleeps short) and
// connections (to close them), and a user's own connections (so that one user can be stopped
// on its own: a load shape's ramp-down). Intrusive lists: no allocation, O(1) unlink.

namespace wsload::net {

/// The links of an intrusive list: a closable, or a list's own head.
class closable_link {
protected:
    closable_link() = default;
    ~closable_link() = default;

private:
    friend class closable_list;
    // Linked when prev_ is set (a list is a ring through its head, so a linked element always
    // has both neighbours): no flag, and an element leaves its list without knowing which one.
    closable_link* prev_ = nullptr;
    closable_link* next_ = nullptr;
};

class closable : private closable_link {
public:
    closable() = default;
    closable(const closable&) = delete;
    closable& operator=(const closable&) = delete;

    /// The run is ending: finish gracefully (close with 1000, wake sleepers).
    virtual void on_stop() = 0;
    /// The grace period is over: end now, and count what ends.
    virtual void on_abort() = 0;

protected:
    ~closable() = default;

private:
    friend class closable_list;
};

/// A ring of closables through its head. An element is in at most one list: linking it moves
/// it (a connection goes from its thread's list to its user's), and unlink() needs no list,
/// so a thread, a user or the element itself can take it out.
class closable_list {
public:
    closable_list() noexcept { head_.prev_ = head_.next_ = &head_; }
    closable_list(const closable_list&) = delete;
    closable_list& operator=(const closable_list&) = delete;
    ~closable_list() { unlink_all(); }

    static bool linked(const closable& c) noexcept { return as_link(c).prev_ != nullptr; }

    /// Puts `c` at the front, out of whichever list it was in.
    void link(closable& c) noexcept
    {
        unlink(c);
        auto& l = as_link(c);
        l.prev_ = &head_;
        l.next_ = head_.next_;
        head_.next_->prev_ = &l;
        head_.next_ = &l;
    }
    /// Takes `c` out of its list, if it is in one.
    static void unlink(closable& c) noexcept
    {
        auto& l = as_link(c);
        if (!l.prev_) return;
        l.prev_->next_ = l.next_;
        l.next_->prev_ = l.prev_;
        l.prev_ = l.next_ = nullptr;
    }
    /// Calls f on each element; f may unlink or move the element it is given (but no other).
    template <class F>
    void for_each(F f)
    {
        for (auto* l = head_.next_; l != &head_;) {
            auto* next = l->next_;
            f(static_cast<closable&>(*l));
            l = next;
        }
    }
    bool empty() const noexcept { return head_.next_ == &head_; }

private:
    static closable_link& as_link(closable& c) noexcept { return c; }
    static const closable_link& as_link(const closable& c) noexcept { return c; }
    void unlink_all() noexcept
    {
        for_each([](closable& c) { unlink(c); });
    }

    closable_link head_;
};

}  // namespace wsload::net

#pragma once
// Things a worker must reach when the run ends: users (to cut their sleeps short) and
// connections (to close them). An intrusive list: no allocation, O(1) unlink.

namespace wsload::net {

class closable {
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
    // Linked when it has a predecessor or is the head (no flag: every user and connection has
    // one of these, and a bool would cost 8 bytes of padding each).
    closable* prev_ = nullptr;
    closable* next_ = nullptr;
};

class closable_list {
public:
    bool linked(const closable& c) const noexcept { return c.prev_ != nullptr || head_ == &c; }

    void link(closable& c) noexcept
    {
        if (linked(c)) return;
        c.prev_ = nullptr;
        c.next_ = head_;
        if (head_) head_->prev_ = &c;
        head_ = &c;
    }
    void unlink(closable& c) noexcept
    {
        if (!linked(c)) return;
        if (c.prev_) c.prev_->next_ = c.next_;
        else head_ = c.next_;
        if (c.next_) c.next_->prev_ = c.prev_;
        c.prev_ = c.next_ = nullptr;
    }
    /// Calls f on each element; f may unlink the element it is given (but no other).
    template <class F>
    void for_each(F f)
    {
        for (auto* c = head_; c;) {
            auto* next = c->next_;
            f(*c);
            c = next;
        }
    }
    bool empty() const noexcept { return head_ == nullptr; }

private:
    closable* head_ = nullptr;
};

}  // namespace wsload::net
